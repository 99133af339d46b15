"""The Flagger in plain Python: modes, options, fields, files, receipts, the journal."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

import pytest
from tests.csv_log import read_rows

from flagpipe import FieldSpec, Flagger
from flagpipe.core.files import FileTooLargeError
from flagpipe.core.journal import JOURNAL_PATH

if TYPE_CHECKING:
    from pathlib import Path

    from flagpipe.core.host import PluginHost

CALCULATOR = {"num1": 5, "operation": "add", "num2": 7, "output": -12}
OPTIONS = ["wrong sign", "off by one", "other"]


def test_guide_calculator_yaml(tmp_path: Path) -> None:
    config = tmp_path / "flagging.yaml"
    config.write_text("options: [wrong sign, off by one, other]\ndir: flagged\n", encoding="utf-8")
    with Flagger.from_yaml(config) as flagger:
        first = flagger.flag(CALCULATOR, option="wrong sign")
        second = flagger.flag({"num1": 6, "operation": "subtract", "num2": 1.5, "output": 3.5}, option="off by one")
    assert first.stored and first.pending == ("csv",) and not first.failed  # background delivery by default
    rows = read_rows(tmp_path / "flagged" / "log.csv")
    assert len(rows) == 2
    assert [(r["num1"], r["operation"], r["num2"], r["output"], r["flag"]) for r in rows] == [
        ("5", "add", "7", "-12", "wrong sign"),
        ("6", "subtract", "1.5", "3.5", "off by one"),
    ]
    assert all(r["timestamp"].endswith("+00:00") for r in rows)
    assert [r["id"] for r in rows] == [first.id, second.id]
    raw = (tmp_path / "flagged" / "log.csv").read_text(encoding="utf-8")
    assert ",-12," in raw and "'-12" not in raw


def test_manual_mode_stores_flags_not_records(tmp_path: Path, plugins: PluginHost) -> None:
    with Flagger(dir=tmp_path, plugins=plugins) as flagger:
        assert flagger.mode == "manual"
        receipt = flagger.record(CALCULATOR)
        assert not receipt.stored and "auto" in (receipt.reason or "")
        assert flagger.flag(CALCULATOR).stored
        assert flagger.count == 1
    assert len(read_rows(tmp_path / "log.csv")) == 1


def test_auto_mode_stores_every_record(tmp_path: Path, plugins: PluginHost) -> None:
    with Flagger(mode="auto", dir=tmp_path, plugins=plugins) as flagger:
        for number in range(5):
            assert flagger.record({"x": number}).stored
        flagger.flag({"x": 99}, option="anything")
        events = flagger.latest(10)
    assert [e.mode for e in events] == ["auto"] * 5 + ["manual"]
    assert [r["x"] for r in read_rows(tmp_path / "log.csv")] == ["0", "1", "2", "3", "4", "99"]


def test_never_mode_stores_nothing(tmp_path: Path, plugins: PluginHost) -> None:
    target = tmp_path / "flags"
    with Flagger(mode="never", dir=target, plugins=plugins) as flagger:
        flagger.setup([FieldSpec("x", kind="number")])
        assert not flagger.flag({"x": 1}).stored
        assert not flagger.record({"x": 1}).stored
    assert not target.exists()


def test_mode_from_environment_overrides_config(tmp_path: Path, plugins: PluginHost) -> None:
    with Flagger(mode="manual", dir=tmp_path, plugins=plugins, env={"FLAGPIPE_MODE": "never"}) as flagger:
        assert flagger.mode == "never"


def test_bad_option_raises_and_stores_nothing(tmp_path: Path, plugins: PluginHost) -> None:
    with Flagger(options=OPTIONS, dir=tmp_path, plugins=plugins) as flagger:
        flagger.flag(CALCULATOR, option="wrong sign")
        with pytest.raises(ValueError, match=r"'sideways'.*'wrong sign', 'off by one', 'other'"):
            flagger.flag(CALCULATOR, option="sideways")
        with pytest.raises(ValueError, match="sideways"):
            flagger.record(CALCULATOR, option="sideways")
        assert len(flagger.latest(10)) == 1
    assert len(read_rows(tmp_path / "log.csv")) == 1


def test_label_value_options_store_the_value(tmp_path: Path, plugins: PluginHost) -> None:
    options = [("Wrong sign", "sign"), {"label": "Off by one", "value": "obo"}, "other"]
    with Flagger(options=options, dir=tmp_path, plugins=plugins) as flagger:
        flagger.flag({"x": 1}, option="Wrong sign")
        flagger.flag({"x": 2}, option="obo")
        flagger.flag({"x": 3}, option="other")
    assert [r["flag"] for r in read_rows(tmp_path / "log.csv")] == ["sign", "obo", "other"]


def test_declared_fields_fix_order_kinds_and_roles(tmp_path: Path, plugins: PluginHost) -> None:
    fields = [
        FieldSpec("num1", kind="number"),
        FieldSpec("operation"),
        FieldSpec("output", kind="number", role="output"),
    ]
    with Flagger(dir=tmp_path, plugins=plugins, fields=fields) as flagger:
        # the header is written at setup, before any flag, as Gradio does
        assert (tmp_path / "log.csv").read_text(encoding="utf-8").startswith("num1,operation,output,flag")
        flagger.flag({"output": "-3", "num1": "4"})
        with pytest.raises(ValueError, match=r"unknown field\(s\) 'num2'; declared fields: num1, operation, output"):
            flagger.flag({"num2": 1})
        with pytest.raises(ValueError, match="field 'num1': 'four' is not a number"):
            flagger.flag({"num1": "four"})
        (event,) = flagger.latest(5)
    assert [(f.name, f.kind, f.role, f.value) for f in event.fields] == [
        ("num1", "number", "input", 4),
        ("operation", "text", "input", None),
        ("output", "number", "output", -3),
    ]


def test_fields_declared_in_yaml(tmp_path: Path) -> None:
    config = tmp_path / "flagging.yaml"
    config.write_text(
        "fields:\n  - {name: a, kind: number}\n  - {name: b, kind: bool, role: output}\n", encoding="utf-8"
    )
    with Flagger.from_yaml(config) as flagger:
        assert flagger.schema is not None and flagger.schema.names == ("a", "b")
        flagger.flag({"a": "1.5", "b": "true"})
        (event,) = flagger.latest(1)
    assert [f.value for f in event.fields] == [1.5, True]


def test_changing_field_set_goes_to_a_new_file(tmp_path: Path, plugins: PluginHost) -> None:
    with Flagger(dir=tmp_path, plugins=plugins) as flagger:
        flagger.flag({"a": 1, "b": 2})
        flagger.flag({"a": 1, "b": 2, "c": 3})
        flagger.flag({"a": 5, "b": 6})
        flagger.flag({"prompt": "hi"})
    first = read_rows(tmp_path / "log.csv")
    assert [list(r) for r in first] == [["a", "b", "flag", "username", "timestamp", "id"]] * 2
    assert [r["a"] for r in first] == ["1", "5"]
    assert [r["c"] for r in read_rows(tmp_path / "log-2.csv")] == ["3"]
    assert [r["prompt"] for r in read_rows(tmp_path / "log-3.csv")] == ["hi"]


def test_a_new_flagger_reuses_the_file_with_the_same_header(tmp_path: Path, plugins: PluginHost) -> None:
    for value in (1, 2):
        with Flagger(dir=tmp_path, plugins=plugins) as flagger:
            flagger.flag({"a": value})
            flagger.flag({"b": value})
    assert [r["a"] for r in read_rows(tmp_path / "log.csv")] == ["1", "2"]
    assert [r["b"] for r in read_rows(tmp_path / "log-2.csv")] == ["1", "2"]


def test_receipt_journal_and_metadata(tmp_path: Path, plugins: PluginHost) -> None:
    with Flagger(dir=tmp_path, app="calc", plugins=plugins) as flagger:
        receipt = flagger.flag(CALCULATOR, username="bob", comment="hmm", metadata={"model": "v2"}, session_id="s9")
    assert (tmp_path / JOURNAL_PATH).exists()
    with Flagger(dir=tmp_path, plugins=plugins) as reader:
        (event,) = reader.latest(5)
    assert event.id == receipt.id
    assert (event.username, event.comment, event.session_id, event.app) == ("bob", "hmm", "s9", "calc")
    assert event.metadata == {"model": "v2"}


def test_closed_flagger_refuses_flags(tmp_path: Path, plugins: PluginHost) -> None:
    flagger = Flagger(dir=tmp_path, plugins=plugins)
    flagger.close()
    flagger.close()
    with pytest.raises(RuntimeError, match="closed"):
        flagger.flag({"x": 1})


def test_values_of_unknown_types_are_refused(tmp_path: Path, plugins: PluginHost) -> None:
    with Flagger(dir=tmp_path, plugins=plugins) as flagger:
        with pytest.raises(TypeError, match="field 'x': cannot flag a value of type object"):
            flagger.flag({"x": object()})
        with pytest.raises(ValueError, match="not a finite number"):
            flagger.flag({"x": float("nan")})
        assert flagger.latest(5) == []


def test_image_file_is_copied_under_its_label(tmp_path: Path, plugins: PluginHost) -> None:
    source = tmp_path / "input.png"
    source.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    flag_dir = tmp_path / "flags"
    with Flagger(
        dir=flag_dir, plugins=plugins, fields=[FieldSpec("image", kind="image"), FieldSpec("strength")]
    ) as flagger:
        flagger.flag({"image": str(source), "strength": "0.5"})
        flagger.flag({"image": source, "strength": "0.7"})
        events = flagger.latest(2)
    (row1, row2) = read_rows(flag_dir / "log.csv")
    assert row1["image"] == row2["image"]  # the same content is stored once
    stored = flag_dir / row1["image"]
    assert stored.parent.parent == flag_dir / "image"
    assert stored.name == "input.png"
    assert stored.read_bytes() == source.read_bytes()
    ref = events[0].field("image").file
    assert ref is not None and ref.media_type == "image/png" and ref.size == 72 and ref.original_name == "input.png"


def test_bytes_files_get_sniffed_names_and_kinds(tmp_path: Path, plugins: PluginHost) -> None:
    with Flagger(dir=tmp_path, plugins=plugins) as flagger:
        flagger.flag({"photo": b"\x89PNG\r\n\x1a\n1234", "blob": b"\x01\x02"})
        (event,) = flagger.latest(1)
    photo, blob = event.fields
    assert photo.kind == "image" and photo.file is not None and photo.file.path.endswith("/photo.png")
    assert blob.kind == "file" and blob.file is not None and blob.file.path.endswith("/blob.bin")


@pytest.mark.parametrize("label", ["../../x", "a/b", "CON", "", "..", "=cmd", "nul.txt", "a\\b", "x" * 300])
def test_hostile_labels_stay_inside_the_dir(tmp_path: Path, plugins: PluginHost, label: str) -> None:
    flag_dir = tmp_path / "flags"
    with Flagger(dir=flag_dir, plugins=plugins) as flagger:
        if label == "":
            with pytest.raises(ValueError, match="name"):
                flagger.flag({label: b"data"})
            return
        flagger.flag({label: b"data", "note": "ok"})
        (event,) = flagger.latest(1)
    ref = event.fields[0].file
    assert ref is not None
    stored = (flag_dir / ref.path).resolve()
    assert stored.is_relative_to(flag_dir.resolve())
    folder = ref.path.split("/")[0]
    assert folder not in ("", ".", "..") and folder.upper() not in ("CON", "NUL.TXT") and len(folder) <= 100
    assert not folder.startswith("=")
    assert stored.read_bytes() == b"data"
    (row,) = read_rows(flag_dir / "log.csv")
    assert row[label] == ref.path


def test_missing_and_huge_files_are_refused_clearly(tmp_path: Path, plugins: PluginHost) -> None:
    config = {"dir": str(tmp_path / "flags"), "max_file_bytes": 10}
    with Flagger(config, plugins=plugins, fields=[FieldSpec("image", kind="image")]) as flagger:
        with pytest.raises(FileNotFoundError, match=r"field 'image': file '.*nope.png' does not exist"):
            flagger.flag({"image": tmp_path / "nope.png"})
        big = tmp_path / "big.png"
        big.write_bytes(b"x" * 11)
        with pytest.raises(FileTooLargeError, match=r"field 'image': file of 11 bytes is larger than max_file_bytes"):
            flagger.flag({"image": big})
        with pytest.raises(FileTooLargeError):
            flagger.flag({"image": b"y" * 50})
        assert flagger.latest(5) == []


def test_pil_and_numpy_values_become_files(tmp_path: Path, plugins: PluginHost) -> None:
    np = pytest.importorskip("numpy")
    image_module = pytest.importorskip("PIL.Image")
    picture = image_module.new("RGB", (4, 3), color=(200, 10, 10))
    array_image = np.zeros((5, 6, 3), dtype=np.uint8)
    matrix = np.arange(6, dtype=np.float32).reshape(2, 3)
    with Flagger(dir=tmp_path, plugins=plugins) as flagger:
        flagger.flag({"picture": picture, "array_image": array_image, "matrix": matrix})
        (event,) = flagger.latest(1)
    kinds = {f.name: (f.kind, f.file.media_type if f.file else None) for f in event.fields}
    assert kinds == {
        "picture": ("image", "image/png"),
        "array_image": ("image", "image/png"),
        "matrix": ("file", "application/x-npy"),
    }
    picture_ref = event.field("picture").file
    assert picture_ref is not None
    with image_module.open(tmp_path / picture_ref.path) as reopened:
        assert reopened.size == (4, 3)
    matrix_ref = event.field("matrix").file
    assert matrix_ref is not None
    loaded = np.load(io.BytesIO((tmp_path / matrix_ref.path).read_bytes()))
    assert loaded.tolist() == matrix.tolist()


def test_json_values_and_booleans(tmp_path: Path, plugins: PluginHost) -> None:
    with Flagger(dir=tmp_path, plugins=plugins) as flagger:
        flagger.flag({"probs": {"cat": 0.9, "dog": 0.1}, "ok": False, "tags": ("a", "b")})
    (row,) = read_rows(tmp_path / "log.csv")
    assert json.loads(row["probs"]) == {"cat": 0.9, "dog": 0.1}
    assert row["ok"] == "false"
    assert json.loads(row["tags"]) == ["a", "b"]


@pytest.mark.parametrize("method", ["flag", "record"])
@pytest.mark.parametrize("mode", ["manual", "auto", "never"])
def test_a_misspelled_keyword_is_refused_and_nothing_is_stored(
    tmp_path: Path, plugins: PluginHost, method: str, mode: str
) -> None:
    with Flagger(mode=mode, dir=tmp_path, plugins=plugins) as flagger:
        with pytest.raises(TypeError, match=r"unexpected keyword argument 'opton'.*option, username"):
            getattr(flagger, method)({"x": 1}, opton="wrong sign")
        assert flagger.count == 0
        assert flagger.latest(5) == []
