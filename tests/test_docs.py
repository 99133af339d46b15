"""The docs match the code: every hook and config key documented, generated blocks fresh, examples run.

Generated blocks (callback settings tables, CLI help) are rewritten by ``scripts/gen_docs.py``.
Code blocks preceded by ``<!-- test -->`` run in a temporary directory, in page order, sharing one
namespace per page; a block preceded by ``<!-- test-file: NAME -->`` is written to ``NAME`` first.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
import sys
import types
import typing
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from flagpipe.core import hookspecs

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = (
    "index.md",
    "guide.md",
    "delivery.md",
    "config.md",
    "hooks.md",
    "callbacks.md",
    "redaction.md",
    "sql.md",
    "parquet.md",
    "server.md",
    "cli.md",
    "recovery.md",
    "reading.md",
    "gradio.md",
    "plugins.md",
    "security.md",
    "api.md",
    "design.md",
    "benchmarks.md",
)
REGENERATE = "regenerate them with: .venv/bin/python scripts/gen_docs.py"

_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t]*$", re.MULTILINE)
_FENCE = re.compile(r"^```.*?^```[ \t]*$", re.MULTILINE | re.DOTALL)
_TEST_BLOCK = re.compile(
    r"^<!-- (?:test|test-file: (?P<file>\S+)) -->\n```(?P<lang>\w*)\n(?P<code>.*?)^```[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_LINK = re.compile(r"\]\((?P<target>[^)\s]+)\)")


def _read(page: str) -> str:
    return (DOCS / page).read_text(encoding="utf-8")


def _load_gen_docs() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _headings(text: str) -> list[tuple[int, str, int, int]]:
    """Each heading outside code fences: level, title (without backticks), start and end of its section."""
    fences = [m.span() for m in _FENCE.finditer(text)]
    found = [m for m in _HEADING.finditer(text) if not any(start <= m.start() < end for start, end in fences)]
    result = []
    for index, match in enumerate(found):
        level = len(match.group(1))
        end = len(text)
        for later in found[index + 1 :]:
            if len(later.group(1)) <= level:
                end = later.start()
                break
        result.append((level, match.group(2).replace("`", ""), match.end(), end))
    return result


def _sections(text: str) -> dict[str, str]:
    """Heading title to the text of its section (up to the next heading of the same or a higher level)."""
    return {title: text[start:end] for _, title, start, end in _headings(text)}


def _slug(title: str) -> str:
    """The anchor of a heading, as Python-Markdown's ``toc`` extension (mkdocs) makes it."""
    value = unicodedata.normalize("NFKD", title)
    value = re.sub(r"[^\w\s-]", "", value).strip().lower()
    return re.sub(r"[-\s]+", "-", value)


def _hook_specs() -> dict[str, tuple[list[str], dict[str, object]]]:
    """Every hook spec in ``flagpipe.core.hookspecs``: name to (argument names, spec options)."""
    specs = {}
    for name, function in vars(hookspecs).items():
        options = getattr(function, f"{hookspecs.PROJECT_NAME}_spec", None)
        if inspect.isfunction(function) and options is not None:
            specs[name] = (list(inspect.signature(function).parameters), options)
    return specs


# -- hooks ----------------------------------------------------------------------------------------


def test_every_hook_is_documented_under_its_signature() -> None:
    sections = _sections(_read("hooks.md"))
    specs = _hook_specs()
    assert specs, "found no hook specs in flagpipe.core.hookspecs"
    missing = []
    for name, (args, options) in sorted(specs.items()):
        signature = f"{name}({', '.join(args)})"
        body = sections.get(signature)
        if body is None:
            missing.append(f"a heading with the signature `{signature}`")
            continue
        missing.extend(f"`{signature}`: argument `{arg}`" for arg in args if f"`{arg}`" not in body)
        if options.get("firstresult") and "firstresult" not in body:
            missing.append(f"`{signature}`: says nothing of firstresult")
        if "**If it raises" not in body or "**Returns" not in body or "**When" not in body:
            missing.append(f"`{signature}`: a **When**, **Returns** or **If it raises** part")
    assert not missing, "docs/hooks.md is missing:\n  " + "\n  ".join(missing)


def test_hooks_page_documents_no_hook_that_does_not_exist() -> None:
    specs = _hook_specs()
    documented = [t.split("(")[0] for _, t, _, _ in _headings(_read("hooks.md")) if t.startswith("flagpipe_")]
    unknown = sorted(set(documented) - set(specs))
    assert not unknown, f"docs/hooks.md documents hooks that hookspecs.py does not define: {unknown}"


# -- configuration ---------------------------------------------------------------------------------


def _config_tables() -> dict[str, tuple[type[Any], ...]]:
    """Section of docs/config.md to the config models whose keys its tables must list."""
    from flagpipe.config.model import ChainItem, FieldDeclaration, FlagpipeConfig, OptionChoice
    from flagpipe.config.server_model import ApiKey, RateLimit, ServerConfig
    from flagpipe.core.policy import PolicyLayer
    from flagpipe.core.redact_settings import DetectEntry, RedactConfig
    from flagpipe.core.routing import When
    from flagpipe.core.settings import DeliveryConfig, RetentionConfig, RetryConfig

    return {
        "Top-level keys": (FlagpipeConfig,),
        "options": (OptionChoice,),
        "fields": (FieldDeclaration,),
        "plugins": (PolicyLayer,),
        "delivery": (DeliveryConfig,),
        "delivery.retry": (RetryConfig,),
        "retention": (RetentionConfig,),
        "server": (ServerConfig,),
        "server.keys": (ApiKey,),
        "server.rate_limit": (RateLimit,),
        "callbacks": (ChainItem,),
        "when": (When,),
        "redact": (RedactConfig,),
        "redact.detect": (DetectEntry,),
    }


def _nested_models(model: type[Any]) -> set[type[Any]]:
    """Every pydantic model reachable from ``model``'s fields (through optionals, lists and tuples)."""
    from pydantic import BaseModel

    found: set[type[Any]] = set()
    stack = [field.annotation for field in model.model_fields.values()]
    while stack:
        annotation = stack.pop()
        stack.extend(typing.get_args(annotation))
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and annotation not in found:
            found.add(annotation)
            stack.extend(field.annotation for field in annotation.model_fields.values())
    return found


def test_every_config_key_is_in_the_config_reference() -> None:
    sections = _sections(_read("config.md"))
    missing = []
    for section, models in _config_tables().items():
        keys = [k for m in models for k in m.model_fields if k != "settings"]  # settings: the callback's own keys
        body = sections.get(section)
        if body is None:
            missing.append(f"a section `{section}`")
            continue
        missing.extend(f"`{key}` in a table row of section `{section}`" for key in keys if f"| `{key}` |" not in body)
    assert not missing, "docs/config.md is missing:\n  " + "\n  ".join(missing)


def test_every_nested_config_model_has_a_section() -> None:
    from flagpipe.config.model import FlagpipeConfig

    covered = {m for models in _config_tables().values() for m in models}
    uncovered = sorted(m.__name__ for m in _nested_models(FlagpipeConfig) - covered)
    assert not uncovered, f"add a section for these config models to docs/config.md and _config_tables(): {uncovered}"


def test_every_environment_variable_is_documented() -> None:
    from flagpipe.config import model
    from flagpipe.core import policy

    names = {getattr(m, n) for m in (model, policy) for n in dir(m) if n.startswith("ENV_")}
    config = _read("config.md")
    missing = sorted(name for name in names if f"`{name}`" not in config)
    assert not missing, f"docs/config.md does not document: {missing}"


def test_plugin_policy_table_names_every_switch() -> None:
    from flagpipe.cli import cli
    from flagpipe.core import policy

    guide = _sections(_read("guide.md"))["Plugins and the plugin policy"]
    flags = [o for p in cli.params for o in p.opts if "plugin" in o]
    variables = [getattr(policy, n) for n in ("ENV_DISABLE_AUTOLOAD", "ENV_ALLOW", "ENV_BLOCK", "ENV_REQUIRE")]
    variables.append(policy.ENV_STRICT)
    keys = list(policy.PolicyLayer.model_fields)
    missing = [f"`{name}" for name in [*flags, *variables, *keys] if f"`{name}" not in guide]
    assert not missing, f"the plugin policy section of docs/guide.md does not mention: {missing}"


# -- generated blocks ------------------------------------------------------------------------------


def test_generated_blocks_are_up_to_date() -> None:
    problems = _load_gen_docs().stale_blocks()
    assert not problems, "generated blocks in docs/ are stale; " + REGENERATE + "\n  " + "\n  ".join(problems)


def test_every_builtin_callback_type_has_a_settings_table() -> None:
    from flagpipe.core.host import create_plugin_host
    from flagpipe.core.policy import PluginPolicy

    types_ = create_plugin_host(PluginPolicy(autoload=False)).callback_types()
    text = _read("callbacks.md")
    missing = [name for name in types_ if f"<!-- settings:{name}:start -->" not in text]
    assert not missing, f"docs/callbacks.md has no settings block for {missing}; add markers, then " + REGENERATE


@pytest.mark.parametrize("page", ["README.md", "docs/index.md", "docs/callbacks.md"])
def test_every_builtin_callback_type_is_named(page: str) -> None:
    """The pages that introduce flagpipe name every built-in sink, so a new sink cannot go unmentioned."""
    from flagpipe.core.host import BUILTIN_PLUGINS, create_plugin_host
    from flagpipe.core.policy import PluginPolicy

    types_ = create_plugin_host(PluginPolicy(autoload=False)).callback_types()
    builtin = [name for name, t in types_.items() if t.plugin.name in BUILTIN_PLUGINS]
    assert builtin, "no built-in callback type found"
    text = (DOCS.parent / page).read_text(encoding="utf-8")
    missing = [name for name in builtin if f"`{name}`" not in text]
    assert not missing, f"{page} does not name the built-in callback type(s) {missing} (as `type`)"


# -- links and examples ----------------------------------------------------------------------------


def test_pages_exist_and_relative_links_resolve() -> None:
    problems = []
    anchors = {}
    for page in PAGES:
        if not (DOCS / page).exists():
            problems.append(f"docs/{page} does not exist")
            continue
        anchors[page] = {_slug(title) for _, title, _, _ in _headings(_read(page))}
    for page in anchors:
        text = _FENCE.sub("", _read(page))
        for match in _LINK.finditer(text):
            target = match.group("target")
            if "://" in target or target.startswith("mailto:"):
                continue
            file, _, anchor = target.partition("#")
            file = file or page
            if file not in anchors:
                problems.append(f"docs/{page}: link to missing page {target!r}")
            elif anchor and anchor not in anchors[file]:
                problems.append(f"docs/{page}: link to missing anchor {target!r}")
    assert not problems, "\n".join(problems)


def _pages_with_examples() -> list[str]:
    return [page for page in PAGES if (DOCS / page).exists() and "<!-- test" in _read(page)]


def test_index_quick_start_has_tested_examples() -> None:
    blocks = [m for m in _TEST_BLOCK.finditer(_read("index.md")) if m.group("lang") == "python"]
    assert blocks, "docs/index.md has no ```python block marked <!-- test -->"


@pytest.mark.parametrize("page", _pages_with_examples())
def test_examples_run(page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _read(page)
    blocks = list(_TEST_BLOCK.finditer(text))
    assert len(blocks) == text.count("<!-- test"), f"docs/{page}: a <!-- test --> marker is not right before a fence"
    monkeypatch.chdir(tmp_path)
    module = types.ModuleType(f"docs_example_{page.removesuffix('.md')}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for block in blocks:
        lines_before_code = text.count("\n", 0, block.start("code"))
        if block.group("file"):
            (tmp_path / block.group("file")).write_text(block.group("code"), encoding="utf-8")
            continue
        assert block.group("lang") == "python", f"docs/{page}:{lines_before_code}: only python blocks can be run"
        # Blank lines in front make tracebacks point at the right line of the page.
        code = compile("\n" * lines_before_code + block.group("code"), str(DOCS / page), "exec")
        exec(code, module.__dict__)
