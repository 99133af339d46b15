"""flag() raises only FlagNotStoredError before the journal has the flag, and never after it."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from typing import TYPE_CHECKING, Any

import pytest

from flagpipe import Flagger, FlagNotStoredError, JournalError
from flagpipe.core.journal import Journal

if TYPE_CHECKING:
    from pathlib import Path

    from flagpipe.core.receipt import FlagReceipt

DISK_FULL = """
import json, resource, signal, sys
from flagpipe import Flagger, FlagNotStoredError

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
directory, limit = sys.argv[1], int(sys.argv[2])
stored, refused, other = [], [], []
flagger = Flagger({"dir": directory, "callbacks": ["csv"], "delivery": {"mode": "inline", "grace": 1}})
flagger.flag({"n": -1, "text": "warm up"})
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
for n in range(400):
    values = {"n": n, "text": "x" * 3000}
    if n % 3 == 0:
        values["blob"] = bytes([n % 256]) * 5000
    try:
        receipt = flagger.flag(values)
    except FlagNotStoredError as exc:
        refused.append(str(exc))
    except BaseException as exc:
        other.append(f"{type(exc).__name__}: {exc}")
    else:
        stored.append([receipt.id, receipt.failed])
try:
    flagger.close()
except BaseException as exc:
    other.append(f"close: {type(exc).__name__}: {exc}")
print(json.dumps({"stored": stored, "refused": refused, "other": other}))
"""


def run_script(script: str, *args: str) -> dict[str, Any]:
    """Run ``script`` in a fresh interpreter; its last line of output is a JSON report with ``other`` errors."""
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    assert result["other"] == []
    return result


@pytest.mark.parametrize("limit_kb", [64, 160, 400])
def test_a_full_disk_raises_flag_not_stored_or_returns_a_receipt(tmp_path: Path, limit_kb: int) -> None:
    result = run_script(DISK_FULL, str(tmp_path), str(limit_kb * 1024))
    assert result["refused"], "the limit was never reached"
    assert all("cannot store" in message or "not stored" in message for message in result["refused"])
    journal = Journal(tmp_path)
    try:
        ids = {event.id for _, event in journal.iter_events()}
    finally:
        journal.close()
    stored = {event_id for event_id, _ in result["stored"]}
    assert stored <= ids  # every receipt is backed by the journal ...
    assert len(ids) == len(stored) + 1  # ... and nothing that raised was stored (+1: the warm-up flag)


FILLS_DURING_DELIVERY = """
import json, os, resource, signal, sys
import flagpipe
from flagpipe import Flagger, FlagNotStoredError
from flagpipe.core.callback import Callback, CallbackSettings
from flagpipe.core.host import create_plugin_host
from flagpipe.core.policy import PluginPolicy

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
directory = sys.argv[1]
wal = os.path.join(directory, ".flagpipe", "journal.sqlite3-wal")


class Filler(Callback[CallbackSettings]):
    type_name = "filler"
    Settings = CallbackSettings

    def deliver(self, events):
        size = os.path.getsize(wal)  # the disk is full from now on: no file may grow
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, resource.RLIM_INFINITY))


class P:
    @flagpipe.hookimpl
    def flagpipe_register_callbacks(self):
        return [Filler]


plugins = create_plugin_host(PluginPolicy(autoload=False))
plugins.register(P(), "filler-plugin")
flagger = Flagger({"dir": directory, "callbacks": ["filler", "csv"], "delivery": {"mode": "inline", "grace": 0}},
                  plugins=plugins)
out = {"receipts": [], "refused": 0, "other": []}
for n in range(5):
    try:
        receipt = flagger.flag({"n": n, "text": "y" * 50000})
        out["receipts"].append({"id": receipt.id, "stored": receipt.stored, "failed": receipt.failed})
    except FlagNotStoredError:
        out["refused"] += 1
    except BaseException as exc:
        out["other"].append(f"{type(exc).__name__}: {exc}")
resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
try:
    flagger.close()
except BaseException as exc:
    out["other"].append(f"close: {type(exc).__name__}: {exc}")
print(json.dumps(out))
"""


def test_a_disk_filling_after_the_flag_is_stored_gives_a_receipt_not_an_error(tmp_path: Path) -> None:
    result = run_script(FILLS_DURING_DELIVERY, str(tmp_path))
    first = result["receipts"][0]
    assert first["stored"] and first["failed"], first  # the delivery error is in the receipt
    journal = Journal(tmp_path)
    try:
        ids = [event.id for _, event in journal.iter_events()]
    finally:
        journal.close()
    assert [r["id"] for r in result["receipts"]] == ids  # every receipt's flag is kept, nothing else


@pytest.mark.parametrize("round_", range(3))
def test_close_racing_eight_flagging_threads(tmp_path: Path, round_: int) -> None:
    flagger = Flagger({"dir": str(tmp_path), "callbacks": ["csv"], "delivery": {"mode": "inline"}})
    receipts: list[FlagReceipt] = []
    errors: list[BaseException] = []
    started = threading.Barrier(9)

    def flag_until_closed(worker: int) -> None:
        started.wait()
        for n in range(500):
            try:
                receipts.append(flagger.flag({"worker": worker, "n": n}))
            except FlagNotStoredError:
                return
            except BaseException as exc:  # noqa: BLE001 - the test reports any other error
                errors.append(exc)
                return

    threads = [threading.Thread(target=flag_until_closed, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    started.wait()
    while len(receipts) < 20 * (round_ + 1):  # close at a different moment each round
        threading.Event().wait(0.001)
    flagger.close()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert all(r.stored and r.delivered == ("csv",) for r in receipts)
    journal = Journal(tmp_path)
    try:
        assert sorted(e.id for _, e in journal.iter_events()) == sorted(r.id for r in receipts if r.id)
    finally:
        journal.close()


def test_flag_not_stored_is_a_journal_error_and_a_runtime_error(tmp_path: Path) -> None:
    flagger = Flagger({"dir": str(tmp_path), "callbacks": ["csv"]})
    flagger.close()
    with pytest.raises(FlagNotStoredError, match="closed") as info:
        flagger.flag({"n": 1})
    assert isinstance(info.value, JournalError) and isinstance(info.value, RuntimeError)
