"""The layers of ``src/flagpipe`` point down only: core → config → the Flagger → sinks, data, server → the rest.

Each module's imports (``TYPE_CHECKING`` ones and imports inside functions included) are read from its
syntax tree. A module may import its own package, any lower layer, and the lazy public facade
(``import flagpipe`` / ``from flagpipe import X``), which resolves names on first use. Packages on
the same layer are siblings and never import each other. The facade ``flagpipe/__init__.py`` itself
is the one exception: it names every public module for type checkers, and imports none at run time.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "flagpipe"

#: The layers, lowest first. A module may import from its own unit and from any lower layer.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("_version",),
    ("core",),
    ("config",),
    ("flagger",),
    ("plugins", "data", "server", "client"),
    ("integrations", "testing", "scaffold"),
    ("cli",),
    ("__main__",),
)

RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def unit_of(module: str) -> str | None:
    """The layer unit of a dotted module name (``flagpipe.core.event`` -> ``core``); None for the facade."""
    parts = module.split(".")
    if parts[0] != "flagpipe":
        raise ValueError(f"not a flagpipe module: {module}")
    return parts[1] if len(parts) > 1 else None


def module_name(path: Path, src: Path) -> str:
    """The dotted name of a source file under ``src`` (the ``flagpipe`` package folder)."""
    relative = path.relative_to(src.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(tree: ast.AST, module: str, src: Path, *, is_package: bool) -> list[tuple[int, str]]:
    """Every flagpipe module a syntax tree imports, with its line, relative imports resolved."""
    found = []
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "flagpipe"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.split(".")[0] != "flagpipe":
                continue
            if target == "flagpipe":  # ``from flagpipe import x``: the facade, or a submodule by name
                for alias in node.names:
                    submodule = src / alias.name
                    is_module = submodule.is_dir() or submodule.with_suffix(".py").exists()
                    found.append((node.lineno, f"flagpipe.{alias.name}" if is_module else "flagpipe"))
            else:
                found.append((node.lineno, target))
    return found


def upward_imports(src: Path) -> list[str]:
    """Every import in ``src`` that points up a layer or sideways to a sibling, as ``file:line`` messages."""
    problems = []
    for path in sorted(src.rglob("*.py")):
        module = module_name(path, src)
        if module == "flagpipe":
            continue  # the facade: type-checking names and lazy lookups only
        source_unit = unit_of(module)
        assert source_unit is not None
        if source_unit not in RANK:
            problems.append(f"{path.relative_to(src.parent)}: flagpipe.{source_unit} is in no layer; add it to LAYERS")
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, target in imported_modules(tree, module, src, is_package=path.name == "__init__.py"):
            target_unit = unit_of(target)
            if target_unit is None or target_unit == source_unit:
                continue
            if RANK.get(target_unit, len(LAYERS)) >= RANK[source_unit]:
                where = "a sibling" if RANK.get(target_unit) == RANK[source_unit] else "a higher layer"
                problems.append(f"{path.relative_to(src.parent)}:{line}: {module} imports {target} ({where})")
    return problems


def test_layers_point_down_only() -> None:
    problems = upward_imports(SRC)
    assert not problems, "imports that point up or sideways:\n" + "\n".join(problems)


def test_every_package_has_a_layer() -> None:
    units = {
        p.stem if p.is_file() else p.name for p in SRC.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()
    }
    assert units - {"__init__"} <= set(RANK), f"modules in no layer: {sorted(units - {'__init__'} - set(RANK))}"


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    src = tmp_path / "flagpipe"
    for name, text in {"__init__.py": "", **files}.items():
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return src


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"core/__init__.py": "", "core/event.py": "from flagpipe.config import loader\n"}, "a higher layer"),
        ({"core/__init__.py": "", "core/event.py": "if TYPE_CHECKING:\n    import flagpipe.flagger\n"}, "higher"),
        ({"core/__init__.py": "", "core/event.py": "def f():\n    from flagpipe.cli import main\n"}, "higher"),
        ({"config/__init__.py": "from ..plugins import csv\n", "plugins/__init__.py": ""}, "a higher layer"),
        ({"data/__init__.py": "from flagpipe.plugins.csv import format_cell\n"}, "a sibling"),
        ({"core/__init__.py": "from flagpipe import flagger\n", "flagger.py": ""}, "a higher layer"),
    ],
)
def test_an_upward_import_is_caught(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    (problem,) = upward_imports(_tree(tmp_path, files))
    assert expected in problem


@pytest.mark.parametrize(
    "files",
    [
        {"plugins/__init__.py": "import flagpipe\nfrom flagpipe import FlagEvent\n"},  # the facade
        {"cli/__init__.py": "from flagpipe.data import read\nfrom flagpipe.plugins import csv\n"},
        {"config/__init__.py": "from flagpipe.core.event import FlagEvent\nfrom . import model\n"},
        {"core/__init__.py": "", "core/lane.py": "from .journal import Journal\nfrom flagpipe._version import v\n"},
    ],
)
def test_downward_imports_pass(tmp_path: Path, files: dict[str, str]) -> None:
    assert upward_imports(_tree(tmp_path, files)) == []
