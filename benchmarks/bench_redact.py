"""Redaction cost per flag: a typical 200-character prompt and a 20 KB one, next to a whole flag().

Run: .venv/bin/python benchmarks/bench_redact.py [--repeat 2000]
Prints microseconds per flag for the redaction step alone (every built-in detector, one compiled
pass per text) and for flag() to a CSV file, inline, without and with a top-level redact: block.
"""

from __future__ import annotations

import argparse
import random
import string
import tempfile
import time
from typing import Any

from rich.console import Console
from rich.table import Table

from flagpipe import FieldValue, FlagEvent, Flagger
from flagpipe.core.host import create_plugin_host
from flagpipe.core.policy import PluginPolicy
from flagpipe.core.redact_settings import RedactConfig
from flagpipe.core.redaction import Redactor

ALL = ["url_credentials", "email", "secret", "iban", "credit_card", "ip", "phone"]
WORDS = [
    "the",
    "model",
    "said",
    "that",
    "five",
    "add",
    "seven",
    "is",
    "minus",
    "twelve",
    "which",
    "is",
    "wrong",
    "because",
    "the",
    "sign",
    "flipped",
    "again",
]


def prose(length: int, seed: int) -> str:
    """Words, numbers and punctuation, with an email, a phone number and a card every ~2 KB."""
    rng = random.Random(seed)
    pieces: list[str] = []
    size = 0
    while size < length:
        roll = rng.random()
        if roll < 0.002:
            piece = "jane.doe@example.com"
        elif roll < 0.004:
            piece = "+1 415-555-2671"
        elif roll < 0.005:
            piece = "4111 1111 1111 1111"
        elif roll < 0.08:
            piece = str(rng.randint(0, 10_000))
        elif roll < 0.09:
            piece = "".join(rng.choices(string.ascii_letters, k=12))
        else:
            piece = rng.choice(WORDS)
        pieces.append(piece)
        size += len(piece) + 1
    return " ".join(pieces)[:length]


def per_call(function: Any, repeat: int) -> float:
    """Microseconds per call, the best of three rounds."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeat):
            function()
        best = min(best, (time.perf_counter() - start) / repeat)
    return best * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=2000)
    args = parser.parse_args()
    plugins = create_plugin_host(PluginPolicy(autoload=False))
    redactor = Redactor.build(RedactConfig.model_validate({"detect": ALL}), plugins.detectors())
    prompts = {
        "200 chars": "Hi, I'm Jane (jane.doe@example.com). I asked the calculator what 5 add 7 is and it said -12; "
        "the sign is wrong. Call me at +1 415-555-2671 if you need more details about this flag, thanks!",
        "20 KB": prose(20_000, seed=1),
    }
    table = Table(title="redaction, µs per flag (every built-in detector)")
    for column in ("prompt", "redact() alone", "flag() plain", "flag() with redact:", "spans found"):
        table.add_column(column, justify="right")
    for label, text in prompts.items():
        event = FlagEvent(fields=(FieldValue(name="prompt", value=text), FieldValue(name="output", value="-12")))
        repeat = args.repeat if len(text) < 1000 else max(args.repeat // 20, 20)
        alone = per_call(lambda event=event: redactor.redact(event), repeat)
        found = redactor.redact(event).metadata.get("redacted", {})
        timings = []
        for redact in (None, {"detect": ALL}):
            with tempfile.TemporaryDirectory() as directory:
                config: dict[str, Any] = {"dir": directory, "delivery": {"mode": "inline"}}
                if redact:
                    config["redact"] = redact
                with Flagger(config, plugins=plugins) as flagger:
                    values = {"prompt": text, "output": "-12"}
                    timings.append(per_call(lambda flagger=flagger, values=values: flagger.flag(values), repeat // 4))
        spans = sum(found.values()) if isinstance(found, dict) else 0
        table.add_row(label, f"{alone:,.0f}", f"{timings[0]:,.0f}", f"{timings[1]:,.0f}", str(spans))
    Console().print(table)


if __name__ == "__main__":
    main()
