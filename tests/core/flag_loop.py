"""A subprocess for crash and multi-process tests: flags in a loop, printing each id once flag() returned."""

from __future__ import annotations

import sys

from flagpipe import Flagger


def main() -> None:
    directory, count, worker = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    config = {"dir": directory, "callbacks": [{"type": "csv"}], "delivery": {"grace": 60, "poll_interval": 0.05}}
    with Flagger(config) as flagger:
        for n in range(count):
            receipt = flagger.flag({"worker": worker, "n": n, "text": f'row {n} of {worker}, with "quotes"\n'})
            print(receipt.id, flush=True)


if __name__ == "__main__":
    main()
