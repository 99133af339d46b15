"""The calculator from Gradio's flagging guide, flagged from plain Python with flagpipe.

Run: python examples/calculator/flag_calculator.py
It flags two wrong answers, as a person would with the Flag buttons, and prints where each went.
"""

from __future__ import annotations

from pathlib import Path

from flagpipe import Flagger

HERE = Path(__file__).parent


def calculator(num1: float, operation: str, num2: float) -> float:
    """The guide's calculator, with the guide's bug: subtract adds instead."""
    if operation == "add":
        return -(num1 + num2)  # a wrong sign, on purpose, so there is something to flag
    if operation == "subtract":
        return num1 - num2 + 1  # off by one, on purpose
    if operation == "multiply":
        return num1 * num2
    return num1 / num2


def main() -> None:
    """Flag two samples and print where each one went."""
    with Flagger.from_yaml(HERE / "flagging.yaml") as flagger:
        print(f"flagging into {flagger.directory} (mode {flagger.mode})")
        samples = [((5, "add", 7), "wrong sign"), ((6, "subtract", 1.5), "off by one")]
        for (num1, operation, num2), reason in samples:
            output = calculator(num1, operation, num2)
            values = {"num1": num1, "operation": operation, "num2": num2, "output": output}
            receipt = flagger.flag(values, option=reason, username="demo")
            print(f"{num1} {operation} {num2} = {output}  flagged as {reason!r}: id {receipt.id}")
            for name in receipt.delivered:
                print(f"  delivered to {name}")
            for name in receipt.pending:
                print(f"  kept in the journal, on its way to {name}")
            for name, error in receipt.failed.items():
                print(f"  FAILED {name}: {error}")
        flagger.flush()  # background delivery: wait until every callback has it
        assert flagger.journal is not None
        for lane in flagger.journal.status():
            print(f"{lane.name}: {lane.delivered} delivered, {lane.pending} pending, {lane.dead} dead")
        log = flagger.directory / "log.csv"
        print(f"\n{log}:")
        print(log.read_text(encoding="utf-8"))


if __name__ == "__main__":
    main()
