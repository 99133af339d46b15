"""A hostile ``flagging.yaml``: alias bombs, recursive aliases and deep nesting end in a clear
error naming the file and line; a config with tens of thousands of options is checked in one pass."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flagpipe.config.errors import ConfigError
from flagpipe.config.model import _repeated
from flagpipe.config.yaml_source import MAX_DEPTH, MAX_NODES, parse_yaml

if TYPE_CHECKING:
    from collections.abc import Callable


def _laughs(levels: int, width: int = 9, *, mapping: bool = False) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for n in range(1, levels):
        if mapping:
            items = ", ".join(f"k{i}: *l{n - 1}" for i in range(width))
            lines.append(f"l{n}: &l{n} {{{items}}}")
        else:
            lines.append(f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * width)}]")
    lines.append(f"options: *l{levels - 1}")
    return "\n".join(lines) + "\n"


BOMBS = {
    "billion laughs, lists": _laughs(10),
    "billion laughs, mappings": _laughs(10, mapping=True),
    "wide and shallow": _laughs(3, width=800),
    "merge keys": "a: &a {"
    + ", ".join(f"k{i}: [{', '.join(['x'] * 50)}]" for i in range(50))
    + "}\n"
    + "".join(f"b{n}: &b{n} {{<<: *{'a' if n == 0 else f'b{n - 1}'}, n{n}: [*a, *a]}}\n" for n in range(60)),
}


@pytest.mark.parametrize("name", list(BOMBS))
def test_alias_bombs_are_refused_with_file_and_line(name: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml(BOMBS[name], "flagging.yaml")
    (problem,) = caught.value.problems
    assert problem.source == "flagging.yaml" and problem.line is not None and problem.line >= 1
    assert f"more than {MAX_NODES:,} values" in problem.message


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "a: &a {k: [x, *a]}\n", "x: 1\nb: &b\n  c: &c\n    - *b\n"])
def test_recursive_aliases_are_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="recursive alias"):
        parse_yaml(text, "flagging.yaml")


NESTINGS: dict[str, Callable[[int], str]] = {
    "flow lists": lambda n: "options: " + "[" * n + "]" * n + "\n",
    "flow mappings": lambda n: "options: " + "{a: " * n + "1" + "}" * n + "\n",
    "block mappings": lambda n: "".join(f"{'  ' * i}k{i}:\n" for i in range(n)) + "  " * n + "v\n",
    "block lists": lambda n: "".join(f"{'  ' * i}- \n" for i in range(n)).replace("- \n", "-\n") + "  " * n + "- v\n",
}


@pytest.mark.parametrize(
    ("name", "depth"),
    [(name, depth) for name in NESTINGS for depth in (MAX_DEPTH + 1, 1_500)]
    + [("flow lists", 100_000), ("flow mappings", 100_000)],  # block styles grow as depth squared
)
def test_deep_nesting_is_refused_with_file_and_line(name: str, depth: int) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_yaml(NESTINGS[name](depth), "deep.yaml")
    (problem,) = caught.value.problems
    assert problem.source == "deep.yaml" and problem.line is not None
    assert f"nested more than {MAX_DEPTH} levels deep" in problem.message


@pytest.mark.parametrize("name", ["flow lists", "flow mappings", "block mappings"])
def test_nesting_within_the_limit_is_read(name: str) -> None:
    data, _ = parse_yaml(NESTINGS[name](MAX_DEPTH - 2), "ok.yaml")
    assert data is not None


def test_aliases_within_the_limit_still_work() -> None:
    data, lines = parse_yaml("base: &o [a, b]\noptions: *o\nmore: [*o, *o]\n", "flagging.yaml")
    assert data["options"] == ["a", "b"] and lines[("options", 1)] == 1


def test_forty_thousand_options_are_checked_and_repeats_named(write_config, load) -> None:
    options = [f"reason {n}" for n in range(40_000)]
    path = write_config("options:\n" + "".join(f"  - {o}\n" for o in [*options, "reason 7", "reason 9"]))
    with pytest.raises(ConfigError, match="repeated: reason 7, reason 9"):
        load(path)


class _Counted(str):
    """A string that counts how often it is hashed or compared."""

    __slots__ = ()
    calls = 0

    def __hash__(self) -> int:
        _Counted.calls += 1
        return str.__hash__(self)

    def __eq__(self, other: object) -> bool:
        _Counted.calls += 1
        return str.__eq__(self, other)


@given(st.lists(st.text(max_size=3), max_size=300))
def test_the_uniqueness_check_is_one_pass(items: list[str]) -> None:
    """Linear, not quadratic: a few hashes and comparisons per item, whatever the number of items."""
    _Counted.calls = 0
    repeated = _repeated(_Counted(i) for i in items)
    assert repeated == sorted({i for i in items if items.count(i) > 1})
    assert _Counted.calls <= 4 * len(items) + 4 * len(repeated) * max(1, len(repeated).bit_length())
