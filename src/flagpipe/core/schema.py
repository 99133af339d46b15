"""Field declarations: the names, kinds and roles an app flags, known before the first flag."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from flagpipe.core.event import FILE_KINDS

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from flagpipe.core.event import FlagEvent, Role

_KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class FieldSpec:
    """Declare one field: ``FieldSpec("num1", kind="number", role="input")``.

    :param name: the field's label, used as its column name and its file folder.
    :param kind: ``text``, ``number``, ``bool``, ``json``, ``image``, ``audio``, ``video``, ``file``,
        or a kind a plugin understands.
    :param role: ``input`` (went into the model) or ``output`` (came out of it).
    """

    name: str
    kind: str = "text"
    role: Role = "input"

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError("a field needs a non-empty name")
        if not _KIND_PATTERN.match(self.kind):
            raise ValueError(f"field {self.name!r}: kind must match [a-z][a-z0-9_]*, got {self.kind!r}")
        if self.role not in ("input", "output"):
            raise ValueError(f"field {self.name!r}: role must be 'input' or 'output', got {self.role!r}")

    @property
    def is_file(self) -> bool:
        """True when values of this field are stored as files."""
        return self.kind in FILE_KINDS


@dataclass(frozen=True)
class FlagSchema:
    """The ordered fields of an app's flags, handed to every callback's ``setup``."""

    fields: tuple[FieldSpec, ...]

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ValueError(f"field names must be unique; repeated: {', '.join(repeated)}")

    @classmethod
    def of(cls, fields: Iterable[FieldSpec]) -> FlagSchema:
        """Build a schema from declared fields."""
        return cls(tuple(fields))

    @classmethod
    def from_event(cls, event: FlagEvent) -> FlagSchema:
        """Infer the schema from one event's fields."""
        return cls(tuple(FieldSpec(f.name, kind=f.kind, role=f.role) for f in event.fields))

    @property
    def names(self) -> tuple[str, ...]:
        """The field names, in order."""
        return tuple(f.name for f in self.fields)

    def get(self, name: str) -> FieldSpec | None:
        """Return the declared field called ``name``, or None."""
        for item in self.fields:
            if item.name == name:
                return item
        return None

    def __len__(self) -> int:
        return len(self.fields)


def as_schema(fields: Sequence[FieldSpec] | FlagSchema) -> FlagSchema:
    """Accept a schema or a sequence of fields and return a schema."""
    return fields if isinstance(fields, FlagSchema) else FlagSchema.of(fields)
