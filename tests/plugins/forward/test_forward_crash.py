"""Edge Flagger → collector with two workers; SIGKILL the collector mid-run and restart it.

Every flag the edge acknowledged reaches the collector's CSV exactly once: the edge's journal keeps
what was not delivered, and the event ids sent as idempotency keys make the replays harmless.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from tests.plugins.forward.test_forward import collector_rows
from tests.server.conftest import WRITER, collector_config, free_port, start_serve, write_config

import flagpipe

FLAGS = 120


def start(config, port: int) -> subprocess.Popen[bytes]:
    """``flagpipe serve --workers 2`` in a process group of its own, once it answers."""
    return start_serve(config, port, workers=2, own_group=True)


@pytest.mark.slow
def test_sigkill_of_the_collector_loses_and_duplicates_nothing(tmp_path):
    config = write_config(tmp_path, collector_config(tmp_path, rate_limit={"per_second": 10_000, "burst": 10_000}))
    port = free_port()
    collector = start(config, port)
    edge = flagpipe.Flagger(
        dir=tmp_path / "edge",
        callbacks=[{"type": "flagpipe", "url": f"http://127.0.0.1:{port}", "key": WRITER, "timeout": 5}],
        config={"delivery": {"batch_size": 10, "retry": {"attempts": 1000, "initial_delay": 0.05, "max_delay": 0.3}}},
    )
    acknowledged = []
    try:
        for i in range(FLAGS):
            receipt = edge.flag({"n": i, "tag": "crash"})
            assert receipt.stored
            acknowledged.append(i)
            if i == FLAGS // 3:
                for _ in range(600):  # bounded: wait until deliveries are flowing, then kill mid-stream
                    if (tmp_path / "flagged" / "log.csv").exists() and collector_rows(tmp_path / "flagged"):
                        break
                    time.sleep(0.05)
                assert collector_rows(tmp_path / "flagged"), "the collector took nothing before the kill"
                os.killpg(collector.pid, signal.SIGKILL)  # mid-run: batches in flight, some answers lost
                collector.wait(timeout=30)
            if i == 2 * FLAGS // 3:
                collector = start(config, port)
            time.sleep(0.005)
        assert edge.flush(timeout=120), "the edge did not catch up with the restarted collector"
    finally:
        edge.close()
        os.killpg(collector.pid, signal.SIGTERM)
        collector.wait(timeout=30)
    numbers = sorted(int(row["n"]) for row in collector_rows(tmp_path / "flagged"))
    assert numbers == acknowledged, "a flag was lost or stored twice"
