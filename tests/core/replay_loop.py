"""A subprocess for the replay test: flags inline, prints each id once flag() returned, then kills itself."""

from __future__ import annotations

import os
import signal
import sys

from flagpipe import Flagger


def main() -> None:
    directory, count = sys.argv[1], int(sys.argv[2])
    flagger = Flagger({"dir": directory, "delivery": {"mode": "inline"}})
    for n in range(count):
        receipt = flagger.flag({"n": n, "text": f'row {n}, "quoted"\n=1+1'})
        assert receipt.delivered == ("csv",), receipt
        print(receipt.id, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # the newest lane progress is not saved yet


if __name__ == "__main__":
    main()
