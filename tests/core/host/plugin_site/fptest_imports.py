"""A log of test-plugin imports: a plugin module that appends here was imported."""

from __future__ import annotations

#: Names of the test-plugin modules imported so far (tests drop this module after each test).
IMPORTED: list[str] = []
