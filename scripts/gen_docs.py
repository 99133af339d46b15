"""Regenerate the generated blocks in ``docs/``: callback settings tables and command-line help.

A generated block sits between two markers, for example::

    <!-- settings:csv:start -->
    ...generated, do not edit by hand...
    <!-- settings:csv:end -->

Usage::

    .venv/bin/python scripts/gen_docs.py           # rewrite every block in place
    .venv/bin/python scripts/gen_docs.py --check   # exit 1 when a block is missing or out of date

``tests/test_docs.py`` runs the same check, so the docs cannot drift from the code.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
import types
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

    from pydantic.fields import FieldInfo

#: The repository root (this file lives in ``scripts/``).
ROOT = Path(__file__).resolve().parent.parent
#: Where the documentation pages live.
DOCS = ROOT / "docs"
#: The width the command-line help is rendered at, so the output does not depend on the terminal.
HELP_WIDTH = 100

_SIMPLE_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number", type(None): "null"}


def markers(name: str) -> tuple[str, str]:
    """The start and end markers of the generated block called ``name``."""
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def _block_pattern(name: str) -> re.Pattern[str]:
    start, end = markers(name)
    return re.compile(rf"{re.escape(start)}\n(.*?){re.escape(end)}", re.DOTALL)


def type_name(annotation: Any) -> str:
    """Describe a settings field's type in YAML terms (``string``, ``list of ...``, ``one of ...``)."""
    if annotation in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[annotation]
    if typing.get_origin(annotation) is not None:
        return _generic_type_name(annotation)
    name = getattr(annotation, "__name__", None)
    if name in ("SecretStr", "SecretBytes"):
        return "string (secret)"
    if name in ("AnyUrl", "HttpUrl", "AnyHttpUrl"):
        return "URL"
    return f"`{name or annotation!r}`"


def _generic_type_name(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    args = [a for a in typing.get_args(annotation) if a is not Ellipsis]
    if origin is typing.Literal:
        return "one of " + ", ".join(f"`{a}`" if isinstance(a, str) else f"`{json.dumps(a)}`" for a in args)
    if origin in (list, tuple, set, frozenset):
        return f"list of ({type_name(args[0])})" if args else "list"
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_name(a) for a in args)
    if origin in (dict, typing.Mapping):
        return "mapping"
    return f"`{annotation!r}`"


def default_text(field: FieldInfo) -> str:
    """A field's default as YAML-like JSON, or *required*."""
    from pydantic_core import to_jsonable_python

    if field.is_required():
        return "*required*"
    value = field.get_default(call_default_factory=True)
    return f"`{json.dumps(to_jsonable_python(value), ensure_ascii=False)}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def settings_table(settings_model: type[Any]) -> str:
    """Render a callback ``Settings`` model as a Markdown table: key, type, default, meaning."""
    rows = ["| Key | Type | Default | Meaning |", "| --- | --- | --- | --- |"]
    for key, field in settings_model.model_fields.items():
        yaml_key = field.alias or key
        rows.append(
            f"| `{yaml_key}` | {_cell(type_name(field.annotation))} | {_cell(default_text(field))} "
            f"| {_cell(field.description or '')} |"
        )
    return "\n".join(rows) + "\n"


@contextlib.contextmanager
def _builtins_only_environment() -> Iterator[None]:
    """Hide every ``FLAGPIPE_*`` variable and turn plugin autoload off while rendering."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("FLAGPIPE_")}
    for name in saved:
        del os.environ[name]
    os.environ["FLAGPIPE_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    try:
        yield
    finally:
        del os.environ["FLAGPIPE_DISABLE_PLUGIN_AUTOLOAD"]
        os.environ.update(saved)


def callback_blocks() -> dict[str, str]:
    """One ``settings:<type>`` block per callback type the built-in plugins register."""
    from flagpipe.core.host import create_plugin_host
    from flagpipe.core.policy import PluginPolicy

    plugins = create_plugin_host(PluginPolicy(autoload=False))
    return {
        f"settings:{type_name_}": settings_table(callback_type.settings_model)
        for type_name_, callback_type in sorted(plugins.callback_types().items())
    }


def cli_blocks() -> dict[str, str]:
    """One ``cli:flagpipe`` block for the group and one ``cli:<command>`` block per built-in command."""
    import click

    from flagpipe.cli import cli

    with _builtins_only_environment():
        root = click.Context(
            cli,
            info_name="flagpipe",
            terminal_width=HELP_WIDTH,
            max_content_width=HELP_WIDTH,
            **cli.context_settings,
        )
        blocks = {"cli:flagpipe": cli.get_help(root)}
        for name in sorted(cli.commands):
            command = cli.commands[name]
            context = click.Context(command, info_name=name, parent=root)
            blocks[f"cli:{name}"] = command.get_help(context)
    return {name: f"```text\n{text.rstrip()}\n```\n" for name, text in blocks.items()}


def generated_blocks() -> dict[tuple[str, str], str]:
    """Every generated block: (page, block name) to its content."""
    blocks: dict[tuple[str, str], str] = {}
    blocks.update({("callbacks.md", name): text for name, text in callback_blocks().items()})
    blocks.update({("cli.md", name): text for name, text in cli_blocks().items()})
    return blocks


def replace_block(text: str, name: str, content: str) -> str | None:
    """Return ``text`` with the block ``name`` holding ``content``; None when the markers are missing."""
    pattern = _block_pattern(name)
    if not pattern.search(text):
        return None
    start, end = markers(name)
    return pattern.sub(lambda _: f"{start}\n{content}{end}", text, count=1)


def stale_blocks(docs: Path = DOCS) -> list[str]:
    """Describe every block that is missing or differs from what the code generates."""
    problems = []
    for (page, name), content in generated_blocks().items():
        path = docs / page
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        match = _block_pattern(name).search(text)
        start, end = markers(name)
        if match is None:
            problems.append(f"docs/{page}: no block {start} ... {end}; add the two markers where it belongs")
        elif match.group(1) != content:
            problems.append(f"docs/{page}: block {name!r} is out of date")
    return problems


def update(docs: Path = DOCS) -> list[str]:
    """Rewrite every block in place; return the blocks that could not be written (no markers)."""
    missing = []
    texts: dict[str, str] = {}
    for (page, name), content in generated_blocks().items():
        path = docs / page
        text = texts.get(page) or (path.read_text(encoding="utf-8") if path.exists() else "")
        replaced = replace_block(text, name, content)
        if replaced is None:
            start, end = markers(name)
            missing.append(f"docs/{page}: no block {start} ... {end}; add the two markers where it belongs")
            continue
        texts[page] = replaced
    for page, text in texts.items():
        path = docs / page
        if path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"updated docs/{page}")
    return missing


def main(argv: list[str] | None = None) -> int:
    """Rewrite the blocks (or, with ``--check``, only report stale ones); return the exit status."""
    args = sys.argv[1:] if argv is None else argv
    problems = stale_blocks() if "--check" in args else update()
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
