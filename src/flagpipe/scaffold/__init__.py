"""Write a new callback plugin package from the templates next to this module (``flagpipe new-plugin``).

The package has a ``pyproject.toml`` with the ``flagpipe`` entry point, a ``src/`` layout, a callback
class with strict settings, a README, and tests that run :class:`flagpipe.testing.CallbackContract`.
"""

from __future__ import annotations

import keyword
import re
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from packaging.utils import canonicalize_name

from flagpipe._version import __version__
from flagpipe.core.callback import TYPE_NAME_PATTERN

__all__ = ["FILES", "PluginNames", "ScaffoldError", "plugin_names", "render", "write_plugin"]

#: A valid distribution (project) name, as the packaging specifications define it.
DISTRIBUTION_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
#: The prefix stripped from a distribution name to make the callback type name.
PREFIX = "flagpipe-"

#: Each file written (a path with ``{module}`` for the package folder) and the template it comes from.
FILES: dict[str, str] = {
    "pyproject.toml": "pyproject.toml.tmpl",
    "README.md": "README.md.tmpl",
    ".gitignore": "gitignore.tmpl",
    "src/{module}/__init__.py": "callback.py.tmpl",
    "src/{module}/py.typed": "",
    "tests/conftest.py": "conftest.py.tmpl",
    "tests/test_callback.py": "test_callback.py.tmpl",
}


class ScaffoldError(ValueError):
    """A name that cannot make a plugin, or a folder that would be overwritten."""


@dataclass(frozen=True)
class PluginNames:
    """The names a plugin package is made of, all derived from its distribution name."""

    #: The distribution name, as given (``flagpipe-s3``).
    distribution: str
    #: The importable package (``flagpipe_s3``).
    module: str
    #: The callback's ``type_name``, used as ``type:`` in YAML (``s3``).
    type_name: str
    #: The callback class (``S3Callback``).
    class_name: str

    @property
    def settings_name(self) -> str:
        """The settings class (``S3Settings``)."""
        return self.class_name.removesuffix("Callback") + "Settings"

    @property
    def entry_point(self) -> str:
        """The entry point's name in the ``flagpipe`` group (the plugin's name in ``flagpipe plugins``)."""
        return self.type_name

    @property
    def env_var(self) -> str:
        """The environment variable the README suggests for the token."""
        return re.sub(r"[^A-Z0-9]+", "_", self.type_name.upper()) + "_TOKEN"


def plugin_names(distribution: str, type_name: str | None = None) -> PluginNames:
    """Derive the module, type and class names from a distribution name such as ``flagpipe-s3``.

    :param type_name: the callback type name; by default the distribution name without ``flagpipe-``,
        with ``-`` and ``.`` turned into ``_``.
    :raises ScaffoldError: when a name is not valid, saying what would be.
    """
    if not DISTRIBUTION_NAME.match(distribution):
        raise ScaffoldError(
            f"{distribution!r} is not a valid distribution name: use letters, digits, '-', '_' and '.', "
            "starting and ending with a letter or digit (for example flagpipe-s3)"
        )
    canonical = canonicalize_name(distribution)
    module = canonical.replace("-", "_")
    if not module.isidentifier() or keyword.iskeyword(module):
        raise ScaffoldError(f"{distribution!r} gives the module name {module!r}, which Python cannot import")
    if module == "flagpipe":
        raise ScaffoldError("a plugin cannot be called flagpipe; try flagpipe-<destination>, such as flagpipe-s3")
    if type_name is None:
        type_name = canonical.removeprefix(PREFIX).replace("-", "_").replace(".", "_")
    if not TYPE_NAME_PATTERN.match(type_name):
        raise ScaffoldError(
            f"the callback type name {type_name!r} must match {TYPE_NAME_PATTERN.pattern}; choose one with --type-name"
        )
    words = re.split(r"[^a-z0-9]+", type_name)
    class_name = "".join(w[:1].upper() + w[1:] for w in words if w) + "Callback"
    return PluginNames(distribution, module, type_name, class_name)


def _template(name: str) -> str:
    return resources.files(__name__).joinpath("templates").joinpath(name).read_text(encoding="utf-8")


def render(names: PluginNames) -> dict[str, str]:
    """Return every file of the package: relative path to content."""
    values = {
        "distribution": names.distribution,
        "module": names.module,
        "type_name": names.type_name,
        "class_name": names.class_name,
        "settings_name": names.settings_name,
        "entry_point": names.entry_point,
        "env_var": names.env_var,
        "flagpipe_version": __version__,
    }
    files = {}
    for path, template in FILES.items():
        text = string.Template(_template(template)).substitute(values) if template else ""
        files[path.format(module=names.module)] = text
    return files


def write_plugin(names: PluginNames, directory: Path) -> list[Path]:
    """Write the package into ``directory`` (created; it must not exist or be empty); return the files.

    :raises ScaffoldError: when ``directory`` is a file or holds anything: nothing is overwritten.
    """
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise ScaffoldError(f"{directory} already exists and is not an empty folder; nothing was written")
    written = []
    for relative, text in render(names).items():
        path = directory / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8", newline="\n") as handle:  # "x": never overwrite
            handle.write(text)
        written.append(path)
    return written
