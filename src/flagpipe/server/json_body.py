"""JSON request bodies: one linear pass bounds their nesting and their size in elements before parsing.

:func:`scan_json` reads the body once, left to right, skipping each string with a pattern that never
backtracks, so its time grows linearly with the body whatever the body holds. It counts the body's
elements (each ``{``, ``[``, string and ``,`` outside strings: about one per object, array, key and
scalar) and stops at the first one past the budget, so a large body of tiny
elements is refused before :func:`json.loads` builds millions of objects.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flagpipe.server.errors import ApiError, invalid

__all__ = ["parse_json", "scan_json"]

#: The next byte that matters outside a string: a bracket, a quote or a comma.
_STRUCTURE = re.compile(rb'[\[\]{}",]')
#: The rest of a string after its opening quote, through its closing quote (possessive: no backtracking).
_STRING_REST = re.compile(rb'[^"\\]*+(?:\\.[^"\\]*+)*+"', re.DOTALL)

_OPEN = frozenset(b"[{")
_CLOSE = frozenset(b"]}")


def scan_json(body: bytes, max_depth: int, max_nodes: int) -> None:
    """Check ``body`` (UTF-8 JSON) in one linear pass: 422 past ``max_depth``, 413 past ``max_nodes`` elements.

    Only nesting and counts are checked; a body that passes may still be malformed (``json.loads`` says so).
    An unterminated string or a closing bracket without its opening one is 422 at once.
    """
    depth = nodes = 0
    position = 0
    while (found := _STRUCTURE.search(body, position)) is not None:
        byte = body[found.start()]
        position = found.end()
        if byte in _CLOSE:
            depth -= 1
            if depth < 0:
                raise invalid([], "not valid JSON: a closing bracket without its opening one")
            continue
        nodes += 1
        if nodes > max_nodes:
            raise ApiError(413, "too_large", f"the JSON body holds more than {max_nodes} elements")
        if byte == ord('"'):
            rest = _STRING_REST.match(body, position)
            if rest is None:
                raise invalid([], "not valid JSON: a string is not terminated")
            position = rest.end()
        elif byte in _OPEN:
            depth += 1
            if depth > max_depth:
                raise invalid([], f"JSON nests deeper than {max_depth} levels")


def parse_json(body: bytes, max_depth: int, max_nodes: int) -> Any:
    """Parse a UTF-8 JSON body after :func:`scan_json`; 422 for malformed JSON or another encoding."""
    scan_json(body, max_depth, max_nodes)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise invalid([], f"not UTF-8: {exc.reason} at byte {exc.start}") from None
    try:
        return json.loads(text.removeprefix("\ufeff"))
    except (ValueError, RecursionError) as exc:
        raise invalid([], f"not valid JSON: {exc}") from None
