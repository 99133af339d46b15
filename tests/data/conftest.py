"""Fixtures for reading flags back: a journal built through a Flagger, and tiny PNG files."""

from __future__ import annotations

import struct
import zlib
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pathlib import Path

OPTIONS = ["wrong sign", "off by one", "other"]


def png(seed: int) -> bytes:
    """A valid 1x1 PNG whose pixel depends on ``seed`` (distinct seeds give distinct files)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixel = zlib.compress(b"\x00" + bytes([seed % 256, (seed // 256) % 256, 7]))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixel) + chunk(b"IEND", b"")


def build_journal(directory: Path, count: int, *, callbacks: list[object] | None = None) -> Path:
    """Flag ``count`` samples into ``directory`` with inline delivery; return the directory."""
    from flagpipe import FieldSpec, Flagger

    images = [png(i) for i in range(16)]
    fields = [
        FieldSpec("num", kind="number"),
        FieldSpec("prompt"),
        FieldSpec("ok", kind="bool"),
        FieldSpec("data", kind="json"),
        FieldSpec("image", kind="image"),
        FieldSpec("score", kind="number", role="output"),
    ]
    config = {"delivery": {"mode": "inline"}, "app": "calc"}
    with Flagger(config, dir=directory, options=OPTIONS, callbacks=callbacks or [], fields=fields) as flagger:
        for i in range(count):
            flagger.flag(
                {
                    "num": -i if i % 2 else i,
                    "prompt": f"-prompt {i}" if i % 7 == 0 else f'prompt {i}, "quoted"',
                    "ok": i % 3 == 0,
                    "data": {"i": i, "tags": ["a", "b"]} if i % 5 else None,
                    "image": images[i % len(images)] if i % 4 else None,
                    "score": i / 4,
                },
                option=OPTIONS[i % 3] if i % 10 else None,
                username=f"user{i % 4}" if i % 6 else None,
                comment="=cmd" if i == 3 else None,
                metadata={"model": {"name": "m", "version": i % 2}, "latency": i * 0.5},
                session_id=f"s{i % 9}",
            )
    return directory


@pytest.fixture
def small_journal(tmp_path: Path) -> Path:
    """A flagging directory with 200 flags."""
    return build_journal(tmp_path / "flagged", 200)
