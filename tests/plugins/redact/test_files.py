"""image_location, the built-in detector of files: a photo with a GPS position never reaches a sink that scans files."""

from __future__ import annotations

import io
import json
import zipfile
from typing import TYPE_CHECKING, Any, ClassVar

import pytest
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


def test_pillow_decides_by_the_content_whatever_the_media_type(tmp_path: Path) -> None:
    path = written(tmp_path, "beach.jpg", LOCATED)
    assert image_location(path, "image/jpeg") == 1
    assert image_location(path, None) == 1
    assert image_location(path, "text/plain") == 1  # a photo named like a text file is still a photo


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


def test_the_content_decides_not_the_name_or_the_declared_type(tmp_path: Path, plugins: PluginHost) -> None:
    from flagpipe.core.kinds import FileUpload

    renamed = written(tmp_path / "uploads", "beach.txt", LOCATED)
    with Flagger(config(tmp_path / "flags", {"detect": ["image_location"]}), plugins=plugins) as flagger:
        flagger.flag({"upload": FileUpload(LOCATED, "beach.txt", "image/jpeg"), "path": renamed})
        (event,) = flagger.latest(1)
    assert event.field("upload").file is None and event.field("path").file is None
    assert event.metadata["redacted"] == {"image_location": 2}
    assert LOCATED not in all_bytes(tmp_path / "flags")


def test_images_pillow_cannot_read_are_refused_and_other_files_pass(tmp_path: Path, plugins: PluginHost) -> None:
    uploads = tmp_path / "uploads"
    heic = written(uploads, "IMG_0001.heic", b"\x00\x00\x00\x18ftypheic" + LOCATED)  # no pillow-heif here
    prefixed = written(uploads, "beach.jpg", b"junk before it!!" + LOCATED)
    drawing = written(uploads, "logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>')
    with Flagger(config(tmp_path / "flags", {"detect": ["image_location"]}), plugins=plugins) as flagger:
        for path, media_type in ((heic, "image/heic"), (prefixed, "image/jpeg")):
            receipt = flagger.flag({"photo": path})
            assert not receipt.stored
            assert receipt.reason is not None
            assert f"cannot read this {media_type} file to look for a position" in receipt.reason
        assert flagger.flag({"photo": drawing}).stored
        (event,) = flagger.latest(5)
    assert event.field("photo").file is not None
    assert LOCATED not in all_bytes(tmp_path / "flags")


def zipped(path: Path, members: dict[str, bytes]) -> Path:
    """A ZIP archive at ``path`` holding ``members`` (name to bytes)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_an_archive_is_scanned_member_by_member_and_withheld_whole(tmp_path: Path, plugins: PluginHost) -> None:
    uploads = tmp_path / "uploads"
    mixed = zipped(uploads / "holiday.zip", {"plain.jpg": PLAIN, "trip/beach.jpg": LOCATED, "notes.txt": b"hi"})
    clean = zipped(uploads / "clean.zip", {"plain.jpg": PLAIN, "notes.txt": b"hi"})
    with Flagger(config(tmp_path / "flags", {"detect": ["image_location"]}), plugins=plugins) as flagger:
        flagger.flag({"files": mixed})
        flagger.flag({"files": clean})
        withheld, kept = flagger.latest(2)
    assert withheld.field("files").file is None
    assert withheld.metadata["redacted"] == {"image_location": 1}
    assert kept.field("files").file is not None
    assert mixed.read_bytes() not in all_bytes(tmp_path / "flags")
    assert not any((tmp_path / "flags" / SCREENING_FOLDER).iterdir()), "the members' copies are gone"


def test_gradio_multiple_files_are_zipped_then_screened(tmp_path: Path, plugins: PluginHost) -> None:
    from flagpipe.integrations.gradio.values import zip_files

    uploads = tmp_path / "uploads"
    scratch: list[Path] = []
    archive = zip_files("gallery", [written(uploads, "a.jpg", PLAIN), written(uploads, "b.jpg", LOCATED)], scratch)
    with Flagger(config(tmp_path / "flags", {"detect": ["image_location"]}), plugins=plugins) as flagger:
        flagger.setup([FieldSpec("gallery", kind="file")])
        assert flagger.flag({"gallery": archive}).stored
        (event,) = flagger.latest(1)
    assert event.field("gallery").file is None
    assert event.metadata["redacted"] == {"image_location": 1}


def test_an_archive_too_large_to_scan_is_refused(
    tmp_path: Path, plugins: PluginHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flagpipe.core.redaction

    monkeypatch.setattr(flagpipe.core.redaction, "ARCHIVE_MEMBERS", 1)  # a small bound, instead of 10,000 files
    archive = zipped(tmp_path / "uploads" / "two.zip", {"a.jpg": PLAIN, "b.jpg": PLAIN})
    with Flagger(config(tmp_path / "flags", {"detect": ["image_location"]}), plugins=plugins) as flagger:
        receipt = flagger.flag({"files": archive})
    assert not receipt.stored
    assert receipt.reason is not None and "the archive holds more than 1 files" in receipt.reason


def test_an_undeclared_image_object_is_screened_once_encoded(tmp_path: Path, plugins: PluginHost) -> None:
    """A PIL image is stored through the images value kind (as PNG, without EXIF), and screened like any file."""
    from flagpipe import Detector
    from flagpipe.testing import DetectorPlugin

    every_png = Detector("png", scan_file=lambda path, media_type: int(media_type == "image/png"))
    image = Image.open(io.BytesIO(LOCATED))
    image.load()
    with plugins.registered(DetectorPlugin(every_png)):
        for detect, kept in ((["image_location"], True), (["png"], False)):
            with Flagger(config(tmp_path / detect[0], {"detect": detect}), plugins=plugins) as flagger:
                receipt = flagger.flag({"pic": image})
                (event,) = flagger.latest(1)
            assert receipt.stored, detect
            assert (event.field("pic").file is not None) == kept, detect  # re-encoding dropped the EXIF
            assert event.field("pic").kind == "image"


def test_a_chat_part_that_refers_to_a_stored_file_is_screened(tmp_path: Path, plugins: PluginHost) -> None:
    flags = tmp_path / "flags"
    with Flagger(config(flags, {"username": "drop"}), plugins=plugins) as plain:  # stored before image_location
        plain.flag({"photo": written(tmp_path / "uploads", "beach.jpg", LOCATED)})
        (earlier,) = plain.latest(1)
    stored = earlier.field("photo").file
    assert stored is not None
    conversation = [{"role": "user", "content": [{"type": "file", "file": stored.model_dump(mode="json")}]}]
    with Flagger(config(flags, {"detect": ["image_location"], "username": "drop"}), plugins=plugins) as flagger:
        flagger.setup([FieldSpec("chat", kind="chat")])
        flagger.flag({"chat": conversation})
        event = flagger.latest(1)[0]
    assert event.field("chat").value == [{"role": "user", "content": [{"type": "text", "text": "<image_location>"}]}]


def test_a_failing_scan_in_a_callbacks_block_is_a_dead_letter_for_that_callback(
    tmp_path: Path, plugins: PluginHost
) -> None:
    broken = written(tmp_path / "uploads", "broken.jpg", b"\xff\xd8\xff\xe0 not a jpeg after all")
    redacted_csv = {"type": "csv", "redact": {"detect": ["image_location"]}}
    chain = {"callbacks": [redacted_csv], "delivery": {"mode": "inline"}}
    with Flagger({"dir": str(tmp_path / "flags"), **chain}, plugins=plugins) as flagger:
        receipt = flagger.flag({"photo": broken})
        assert flagger.journal is not None
        (dead,) = flagger.journal.dead_letters("csv")
    assert receipt.stored and receipt.delivered == () and set(receipt.failed) == {"csv"}
    assert "detector 'image_location'" in receipt.failed["csv"]
    assert dead.event_id == receipt.id


def test_a_callbacks_drop_skips_it_from_the_first_flag(tmp_path: Path, plugins: PluginHost) -> None:
    located = written(tmp_path / "uploads", "beach.jpg", LOCATED)
    dropping = {"type": "csv", "redact": {"detect": ["image_location"], "action": "drop"}}
    chain = {"callbacks": [dropping], "delivery": {"mode": "inline"}}
    with Flagger({"dir": str(tmp_path / "flags"), **chain}, plugins=plugins) as flagger:
        receipts = [flagger.flag({"photo": located}) for _ in range(2)]
    assert [(r.delivered, r.skipped) for r in receipts] == [((), ("csv",)), ((), ("csv",))]
