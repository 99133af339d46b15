"""Read YAML into plain data plus the line of every key, and apply ``${VAR}`` interpolation."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import yaml

from flagpipe.config.errors import ConfigError, ConfigProblem, KeyPath, line_of

if TYPE_CHECKING:
    from collections.abc import Mapping

_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


#: The deepest nesting a config may have (a real one needs fewer than ten levels).
MAX_DEPTH = 64
#: The most values a config may expand to once aliases are followed (an alias bomb expands to billions).
MAX_NODES = 500_000


class _RefusedError(Exception):
    """A structure too deep or too large, found at ``line``."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader that refuses nesting deeper than :data:`MAX_DEPTH` while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                line = self.peek_event().start_mark.line + 1  # type: ignore[no-untyped-call]
                raise _RefusedError(line, f"nested more than {MAX_DEPTH} levels deep")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _expanded_size(node: yaml.Node, sizes: dict[int, int], open_nodes: set[int]) -> int:
    """How many nodes ``node`` stands for once every alias is followed (memoized: linear in the graph)."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_nodes:
        raise _RefusedError(node.start_mark.line + 1, "an alias refers to a node that contains it (a recursive alias)")
    open_nodes.add(key)
    size = 1
    if isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(k, sizes, open_nodes) + _expanded_size(v, sizes, open_nodes) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(item, sizes, open_nodes) for item in node.value)
    open_nodes.discard(key)
    sizes[key] = size
    if size > MAX_NODES:
        raise _RefusedError(
            node.start_mark.line + 1,
            f"expands to more than {MAX_NODES:,} values once aliases are followed (an alias bomb?)",
        )
    return size


def _compose(text: str) -> tuple[Any, yaml.Node | None]:
    """Compose and construct the document once, bounded in depth and in expanded size."""
    loader = _BoundedLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        _expanded_size(node, {}, set())
        return loader.construct_document(node), node
    finally:
        loader.dispose()


def parse_yaml(text: str, source: str) -> tuple[Any, dict[KeyPath, int]]:
    """Parse YAML text; return the data and a map from each key path to its 1-based line.

    :raises ConfigError: invalid YAML, nesting deeper than :data:`MAX_DEPTH`, more than
        :data:`MAX_NODES` values once aliases are followed, a recursive alias, or a duplicate key.
    """
    try:
        data, node = _compose(text)
    except _RefusedError as exc:
        raise ConfigError([ConfigProblem(source, exc.line, (), f"refused: {exc.message}")]) from None
    except RecursionError:
        raise ConfigError([ConfigProblem(source, None, (), "refused: nested too deep")]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise ConfigError([ConfigProblem(source, line, (), f"invalid YAML: {reason}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigProblem(source, None, (), f"invalid YAML: {exc}")]) from None
    lines: dict[KeyPath, int] = {}
    duplicates: list[tuple[KeyPath, int, int]] = []
    if node is not None:
        lines[()] = node.start_mark.line + 1
        _walk(node, (), lines, duplicates)
    if duplicates:
        raise ConfigError(
            ConfigProblem(source, line, path, f"duplicate key (first given at line {first})")
            for path, line, first in duplicates
        )
    return data, lines


def _walk(
    node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int], duplicates: list[tuple[KeyPath, int, int]]
) -> None:
    """Record the line of every key and item; note keys repeated in one mapping (YAML keeps the last)."""
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            child = (*path, key)
            line = key_node.start_mark.line + 1
            if child in lines:
                duplicates.append((child, line, lines[child]))
                continue
            lines[child] = line
            _walk(value_node, child, lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            lines[child] = item.start_mark.line + 1
            _walk(item, child, lines, duplicates)


def interpolate(data: Any, env: Mapping[str, str], *, source: str, lines: Mapping[KeyPath, int]) -> Any:
    """Replace ``${VAR}`` and ``${VAR:-default}`` in every string value; ``$$`` is a literal ``$``.

    :raises ConfigError: naming each variable that is not set and has no default.
    """
    problems: list[ConfigProblem] = []

    def substitute(value: str, path: KeyPath) -> str:
        def one(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            name, default = match.group(1), match.group(2)
            if default is not None and not env.get(name):
                return default  # as in the shell, ${VAR:-default} also replaces an empty value
            if name in env:
                return env[name]
            problems.append(
                ConfigProblem(
                    source,
                    line_of(path, lines),
                    path,
                    f"environment variable {name} is not set (set it, or write ${{{name}:-default}})",
                )
            )
            return ""

        return _VARIABLE.sub(one, value)

    def walk(value: Any, path: KeyPath) -> Any:
        if isinstance(value, str):
            return substitute(value, path) if "$" in value else value
        if isinstance(value, dict):
            return {k: walk(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, (*path, i)) for i, v in enumerate(value)]
        return value

    result = walk(data, ())
    if problems:
        raise ConfigError(problems)
    return result
