"""A well-behaved plugin: a callback type with strict settings, a value kind and a CLI command."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click
import fptest_imports
from pydantic import Field

import flagpipe

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

fptest_imports.IMPORTED.append(__name__)


class SinkSettings(flagpipe.CallbackSettings):
    """Settings of the ``testsink`` callback."""

    file_name: str = Field(default="testsink.jsonl", description="JSON-lines file inside the flagging dir.")


class SinkCallback(flagpipe.Callback[SinkSettings]):
    """Appends each delivered event as one JSON line."""

    type_name = "testsink"
    Settings = SinkSettings

    def setup(self, schema: flagpipe.FlagSchema, directory: Path) -> None:
        self.path = directory / self.settings.file_name

    def deliver(self, events: Sequence[flagpipe.FlagEvent]) -> None:
        with self.path.open("a", encoding="utf-8") as file:
            for event in events:
                file.write(json.dumps({"id": event.id, "option": event.option}) + "\n")


class Point:
    """A value type only this plugin knows how to store."""

    def __init__(self, x: int, y: int) -> None:
        self.x = x
        self.y = y


def _encode_point(value: object) -> flagpipe.EncodedFile:
    assert isinstance(value, Point)
    return flagpipe.EncodedFile(f"{value.x},{value.y}".encode(), ".point", "text/plain", kind="file")


@flagpipe.hookimpl
def flagpipe_register_callbacks() -> list[type[flagpipe.Callback[SinkSettings]]]:
    return [SinkCallback]


@flagpipe.hookimpl
def flagpipe_register_value_kinds() -> list[flagpipe.ValueKind]:
    return [flagpipe.ValueKind("fptest.point", "file", lambda value: isinstance(value, Point), _encode_point)]


@flagpipe.hookimpl
def flagpipe_register_commands(cli: click.Group) -> None:
    @cli.command("fptest-hello")
    def hello() -> None:
        """Say hello (a command added by the fptest-good plugin)."""
        click.echo("hello from fptest-good")
