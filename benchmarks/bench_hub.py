"""Hub commits for 1,000 flags with the hf_dataset callback, against the test Hub on 127.0.0.1.

Run: .venv/bin/python benchmarks/bench_hub.py [--flags 1000]
Prints, for a few commit settings, how many commits 1,000 flags made, how long flagging took, and how
long the last commit waited. The test Hub (tests/plugins/hf_dataset/hub.py) speaks the Hub's HTTP API
to the real huggingface_hub client.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_DISABLE_XET", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("HF_HOME", tempfile.mkdtemp(prefix="flagpipe-bench-hf-"))

from rich.console import Console
from rich.table import Table

import flagpipe

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "plugins" / "hf_dataset"))
from hub import running_hub

PNG = b"\x89PNG\r\n\x1a\n" + bytes(2000)


def run(flags: int, commit_every: float, commit_max_events: int) -> tuple[int, float, float]:
    with running_hub({"hf_bench": "bench"}) as hub, tempfile.TemporaryDirectory() as tmp:
        item = {
            "type": "hf_dataset",
            "repo_id": "bench/flags",
            "token": "hf_bench",
            "endpoint": hub.url,
            "commit_every": commit_every,
            "commit_max_events": commit_max_events,
        }
        start = time.perf_counter()
        with flagpipe.Flagger({"dir": tmp, "callbacks": [item], "delivery": {"grace": 600}}) as flagger:
            for n in range(flags):
                flagger.flag({"n": n, "image": PNG + n.to_bytes(4, "big")}, option="wrong sign")
            flagged = time.perf_counter() - start
        closed = time.perf_counter() - start
        return len(hub.data_commits("bench/flags")), flagged, closed - flagged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--flags", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    table = Table(
        "commit_every (s)",
        "commit_max_events",
        "commits for the flags",
        "flagging s",
        "close() s",
        title=f"Hub commits for {args.flags:,} flags with an image each (median of {args.repeats})",
    )
    for every, most in [(300, 1000), (1, 250), (0.2, 100)]:
        results = [run(args.flags, every, most) for _ in range(args.repeats)]
        table.add_row(
            f"{every:g}",
            f"{most:,}",
            f"{statistics.median(r[0] for r in results):.0f} "
            f"({min(r[0] for r in results)}-{max(r[0] for r in results)})",
            f"{statistics.median(r[1] for r in results):.2f}",
            f"{statistics.median(r[2] for r in results):.2f}",
        )
    Console(width=140).print(table)
    print("Gradio's HuggingFaceDatasetSaver made one commit per flag: 1,000 commits for 1,000 flags.")


if __name__ == "__main__":
    main()
