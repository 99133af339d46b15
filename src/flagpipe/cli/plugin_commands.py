"""Commands for plugin authors: new-plugin."""

from __future__ import annotations

from pathlib import Path

import click

from flagpipe.cli.common import _console, _fail, _text
from flagpipe.cli.group import cli


@cli.command("new-plugin")
@click.argument("name")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    help="The folder to write the package into (default: ./NAME); it must not exist or be empty.",
)
@click.option("--type-name", help="The callback type name used in YAML (default: NAME without 'flagpipe-').")
def new_plugin(name: str, directory: str | None, type_name: str | None) -> None:
    """Write a new callback plugin package NAME (a distribution name, such as flagpipe-s3).

    The package has the flagpipe entry point, a callback class with strict settings, a README and
    tests that run flagpipe's callback contract.
    """
    from flagpipe.scaffold import ScaffoldError, plugin_names, write_plugin

    target = Path(directory) if directory else Path(name)
    try:
        names = plugin_names(name, type_name)
        write_plugin(names, target)
    except ScaffoldError as exc:
        _fail(str(exc))
        return
    except OSError as exc:
        where = exc.filename or target
        _fail(f"cannot write the plugin package into {where}: {exc.strerror or exc}")
        return
    console = _console()
    console.print(
        f"wrote {_text(target)}: the {_text(names.type_name)!r} callback "
        f"({_text(names.module)}.{_text(names.class_name)})"
    )
    console.print("next:")
    console.print(f"  cd {_text(target)}")
    console.print(_text('  python -m pip install -e ".[test]"'))
    console.print("  python -m pytest")
