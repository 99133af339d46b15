"""Start-up time of the command line, side by side with a bare interpreter.

Run: .venv/bin/python benchmarks/bench_startup.py [--runs 15] [--site DIR]
Each row is a fresh process, timed end to end; the table shows the median (and the fastest and
slowest run) in milliseconds, and the median above ``python -c pass``. ``--help (cold cache)``
starts each run with an empty cache of plugin commands, so it imports every plugin; ``--help
(warm cache)`` reads the cache. ``--site DIR`` puts a folder of plugin distributions on
PYTHONPATH (for example ``tests/core/host/plugin_site``), so plugins with commands are installed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _flagpipe() -> list[str]:
    script = Path(sys.executable).with_name("flagpipe")
    return [str(script)] if script.exists() else [sys.executable, "-m", "flagpipe"]


def _time(command: list[str], env: dict[str, str], before: object = None) -> float:
    if callable(before):
        before()
    start = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--site", help="a folder of plugin distributions to put on PYTHONPATH")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLAGPIPE_")}
    if args.site:
        env["PYTHONPATH"] = os.pathsep.join([str(Path(args.site).resolve()), env.get("PYTHONPATH", "")]).rstrip(
            os.pathsep
        )
    flagpipe = _flagpipe()
    with tempfile.TemporaryDirectory() as tmp:
        cold, warm = Path(tmp, "cold"), Path(tmp, "warm")
        cold_env = {**env, "FLAGPIPE_CACHE_DIR": str(cold)}
        warm_env = {**env, "FLAGPIPE_CACHE_DIR": str(warm)}
        fill = [*flagpipe, "--help"]
        subprocess.run(fill, env=warm_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)

        def empty_cold() -> None:
            shutil.rmtree(cold, ignore_errors=True)

        rows = [
            ("python -c pass", [sys.executable, "-c", "pass"], env, None),
            ("python -c 'import flagpipe'", [sys.executable, "-c", "import flagpipe"], env, None),
            ("flagpipe --help (cold cache)", [*flagpipe, "--help"], cold_env, empty_cold),
            ("flagpipe --help (warm cache)", [*flagpipe, "--help"], warm_env, None),
            ("flagpipe --version", [*flagpipe, "--version"], warm_env, None),
            ("flagpipe status --help", [*flagpipe, "status", "--help"], warm_env, None),
        ]
        results = {name: [_time(command, e, before) for _ in range(args.runs)] for name, command, e, before in rows}
    floor = statistics.median(results["python -c pass"])
    width = max(len(name) for name in results)
    print(f"{'':{width}}  {'median ms':>9}  {'min-max ms':>13}  {'above python':>12}")
    for name, times in results.items():
        median = statistics.median(times)
        spread = f"{min(times):.0f}-{max(times):.0f}"
        print(f"{name:{width}}  {median:9.1f}  {spread:>13}  {median - floor:12.1f}")
    print(f"({args.runs} runs each; {' '.join(flagpipe)}; Python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
