"""A plugin whose dependency is missing: importing it raises ModuleNotFoundError."""

from __future__ import annotations

import fptest_imports

fptest_imports.IMPORTED.append(__name__)

import fptest_missing_dependency  # noqa: E402, F401 - the point of this module: the import fails
