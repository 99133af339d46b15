"""image_location, the built-in detector of files: a photo with a GPS position never reaches a sink that scans files."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any, ClassVar

from PIL import Image

from flagpipe import FieldSpec, Flagger
from flagpipe.core.files import SCREENING_FOLDER
from flagpipe.plugins.redact.files import IMAGE_LOCATION, image_location
from flagpipe.testing import DetectorContract

from .test_sinks import all_bytes

if TYPE_CHECKING:
    from pathlib import Path

    from pytest_httpserver import HTTPServer

    from flagpipe.core.host import PluginHost


def photo(*, located: bool, image_format: str = "JPEG", colour: tuple[int, int, int] = (200, 10, 10)) -> bytes:
    """A small image with EXIF metadata: a camera maker, and a GPS position when ``located``."""
    image = Image.new("RGB", (8, 8), colour)
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    if located:
        exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)})
    buffer = io.BytesIO()
    image.save(buffer, image_format, exif=exif)
    return buffer.getvalue()


LOCATED = photo(located=True)
PLAIN = photo(located=False, colour=(10, 200, 10))


def written(folder: Path, name: str, data: bytes) -> Path:
    """``data`` in a new file ``folder/name`` (an upload, outside the flagging directory)."""
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return folder / name


class TestImageLocationContract(DetectorContract):
    detector = IMAGE_LOCATION
    files_found: ClassVar[list[tuple[str, bytes]]] = [
        ("beach.jpg", LOCATED),
        ("map.png", photo(located=True, image_format="PNG")),
        ("shot.webp", photo(located=True, image_format="WEBP")),
    ]
    files_not_found: ClassVar[list[tuple[str, bytes]]] = [
        ("plain.jpg", PLAIN),
        ("notes.txt", b"GPS 52 31 12 N, 13 24 36 E"),
        ("photo.bin", b"\x00" * 64),
    ]


def test_a_file_of_another_media_type_is_not_opened(tmp_path: Path) -> None:
    path = written(tmp_path, "beach.jpg", LOCATED)
    assert image_location(path, "image/jpeg") == 1
    assert image_location(path, None) == 1  # no media type: Pillow decides by the content
    assert image_location(path, "text/plain") == 0


def test_an_image_that_cannot_be_read_refuses_the_flag(tmp_path: Path, plugins: PluginHost) -> None:
    """A damaged image might still carry its position: redaction fails closed and says why."""
    broken = written(tmp_path / "uploads", "broken.jpg", b"\xff\xd8\xff\xe0 not a jpeg after all")
    with Flagger(config(tmp_path / "flags", {"detect": ["image_location"]}), plugins=plugins) as flagger:
        receipt = flagger.flag({"photo": broken})
        assert flagger.latest(1) == []
    assert not receipt.stored
    assert receipt.reason is not None
    assert "redaction of field 'photo' failed: detector 'image_location': OSError" in receipt.reason


def config(directory: Path, redact: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"dir": str(directory), "delivery": {"mode": "inline"}, "redact": redact, **extra}


def test_global_redaction_withholds_a_located_photo_and_stores_a_clean_one(tmp_path: Path, plugins: PluginHost) -> None:
    flags = tmp_path / "flags"
    located = written(tmp_path / "uploads", "beach.jpg", LOCATED)
    plain = written(tmp_path / "uploads", "plain.jpg", PLAIN)
    with Flagger(config(flags, {"detect": ["email", "image_location"]}), plugins=plugins) as flagger:
        withheld = flagger.flag({"photo": located, "prompt": "from jane@example.com"})
        kept = flagger.flag({"photo": plain, "prompt": "nothing here"})
        first, second = flagger.latest(2)
    assert withheld.stored and kept.stored
    assert first.field("photo").file is None
    assert first.field("photo").kind == "image"
    assert first.metadata["redacted"] == {"email": 1, "image_location": 1}
    assert second.field("photo").file is not None
    assert "redacted" not in second.metadata
    stored = all_bytes(flags)  # the journal, the CSV and the stored files
    assert LOCATED not in stored
    assert PLAIN in stored
    assert not any((flags / SCREENING_FOLDER).iterdir()), "nothing is left in the screening folder"
    rows = (flags / "log.csv").read_text().splitlines()
    assert "beach.jpg" not in rows[1] and "plain.jpg" in rows[2]


def test_global_drop_refuses_the_flag_and_stores_no_file(tmp_path: Path, plugins: PluginHost) -> None:
    flags = tmp_path / "flags"
    located = written(tmp_path / "uploads", "beach.jpg", LOCATED)
    redact = {"detect": ["image_location"], "action": "drop"}
    with Flagger(config(flags, redact), plugins=plugins) as flagger:
        receipt = flagger.flag({"photo": located, "caption": "at the beach"})
        assert flagger.latest(5) == []
    assert not receipt.stored
    assert receipt.reason is not None
    assert "image_location (1)" in receipt.reason and "field 'photo'" in receipt.reason
    assert LOCATED not in all_bytes(flags)


def test_skip_fields_and_fields_choose_which_files_are_scanned(tmp_path: Path, plugins: PluginHost) -> None:
    located = written(tmp_path / "uploads", "beach.jpg", LOCATED)
    redact = {"detect": ["image_location"], "skip_fields": ["avatar"]}
    with Flagger(config(tmp_path / "flags", redact), plugins=plugins) as flagger:
        flagger.flag({"avatar": located, "photo": located})
        (event,) = flagger.latest(1)
    assert event.field("avatar").file is not None
    assert event.field("photo").file is None


def test_a_located_photo_in_a_chat_message_becomes_a_text_part(tmp_path: Path, plugins: PluginHost) -> None:
    located = written(tmp_path / "uploads", "beach.jpg", LOCATED)
    plain = written(tmp_path / "uploads", "plain.jpg", PLAIN)
    conversation = [
        {"role": "user", "content": [{"type": "text", "text": "where is this?"}, {"path": str(located)}]},
        {"role": "assistant", "content": "a beach"},
        {"role": "user", "content": {"path": str(plain)}},
    ]
    with Flagger(config(tmp_path / "flags", {"detect": ["image_location"]}), plugins=plugins) as flagger:
        flagger.setup([FieldSpec("chat", kind="chat")])
        flagger.flag({"chat": conversation})
        (event,) = flagger.latest(1)
    messages = event.field("chat").value
    assert isinstance(messages, list)
    assert messages[0]["content"] == [  # type: ignore[index]
        {"type": "text", "text": "where is this?"},
        {"type": "text", "text": "<image_location>"},
    ]
    assert messages[2]["content"][0]["type"] == "file"  # type: ignore[index]
    assert event.metadata["redacted"] == {"image_location": 1}
    assert LOCATED not in all_bytes(tmp_path / "flags")


def test_a_callbacks_own_redaction_withholds_the_photo_from_that_callback_only(
    tmp_path: Path, plugins: PluginHost, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hook").respond_with_data("ok")
    flags = tmp_path / "flags"
    located = written(tmp_path / "uploads", "beach.jpg", LOCATED)
    hook = {
        "type": "webhook",
        "private_addresses": "allow",
        "url": httpserver.url_for("/hook"),
        "redact": {"detect": ["image_location"]},
    }
    with Flagger({"dir": str(flags), "delivery": {"mode": "inline"}, "callbacks": [{"type": "csv"}, hook]}) as flagger:
        receipt = flagger.flag({"photo": located})
        (event,) = flagger.latest(1)
    assert receipt.delivered == ("csv", "webhook")
    assert event.field("photo").file is not None, "the journal keeps the file"
    assert LOCATED in all_bytes(flags)
    assert "beach.jpg" in (flags / "log.csv").read_text()
    ((request, _),) = list(httpserver.log)
    body = request.get_data()
    sent = json.loads(body)
    assert event.field("photo").file.sha256.encode() not in body  # type: ignore[union-attr]
    assert b"beach.jpg" not in body
    assert "image_location" in json.dumps(sent)
