"""Redaction cost per flag: a typical 200-character prompt and a 20 KB one, next to a whole flag().

Run: .venv/bin/python benchmarks/bench_redact.py [--repeat 2000]
Prints microseconds per flag for the redaction step alone (every built-in detector, one compiled
pass per text) and for flag() to a CSV file, inline, without and with a top-level redact: block;
then the same for a flag with a photo of about 100 KB, without and with image_location screening it.
"""

from __future__ import annotations

import argparse
import io
import random
import string
import tempfile
import time
from pathlib import Path
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
    Console().print(photo_table(plugins, max(args.repeat // 10, 50)))


def photo(*, located: bool) -> bytes:
    """A JPEG of noise of about 100 KB, with a GPS position in its EXIF metadata when ``located``."""
    from PIL import Image

    rng = random.Random(7)
    image = Image.frombytes("RGB", (300, 300), bytes(rng.getrandbits(8) for _ in range(300 * 300 * 3)))
    exif = Image.Exif()
    if located:
        exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)})
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=95, exif=exif)
    return buffer.getvalue()


def photo_table(plugins: Any, repeat: int) -> Table:
    """flag() of a photo to CSV, inline: no redact:, and redact: detect: [image_location] (clean or located)."""
    table = Table(title="a flag with a photo, µs per flag (inline, csv)")
    for column in ("photo", "size", "flag() plain", "flag() with image_location", "file"):
        table.add_column(column, justify="right")
    with tempfile.TemporaryDirectory() as uploads:
        for label, located in (("no position", False), ("GPS position", True)):
            data = photo(located=located)
            path = Path(uploads) / f"{label.replace(' ', '-')}.jpg"
            path.write_bytes(data)
            timings = []
            stored = "-"
            for redact in (None, {"detect": ["image_location"]}):
                with tempfile.TemporaryDirectory() as directory:
                    config: dict[str, Any] = {"dir": directory, "delivery": {"mode": "inline"}}
                    if redact:
                        config["redact"] = redact
                    with Flagger(config, plugins=plugins) as flagger:
                        timings.append(
                            per_call(lambda flagger=flagger, path=path: flagger.flag({"photo": path}), repeat)
                        )
                        if redact:
                            stored = "stored" if flagger.latest(1)[0].field("photo").file else "withheld"
            table.add_row(label, f"{len(data) // 1024} KB", f"{timings[0]:,.0f}", f"{timings[1]:,.0f}", stored)
    return table


if __name__ == "__main__":
    main()
