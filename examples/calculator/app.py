"""The calculator Interface from Gradio's flagging guide, with flagpipe behind its Flag buttons.

Run: pip install "flagpipe[gradio]" && python examples/calculator/app.py
Mode, options, directory and the privacy notice come from flagging.yaml beside this file.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from flagpipe.integrations.gradio import interface_kwargs

HERE = Path(__file__).parent


def calculator(num1: float, operation: str, num2: float) -> float:
    """The guide's calculator, with two bugs on purpose so that there is something to flag."""
    if operation == "add":
        return -(num1 + num2)  # a wrong sign
    if operation == "subtract":
        return num1 - num2 + 1  # off by one
    if operation == "multiply":
        return num1 * num2
    return num1 / num2


def build_demo(config: str | Path = HERE / "flagging.yaml") -> gr.Interface:
    """The guide's Interface; ``interface_kwargs`` adds flagging_mode, flagging_options, flagging_dir,
    flagging_callback and the notice (as the ``article``)."""
    return gr.Interface(
        calculator,
        ["number", gr.Radio(["add", "subtract", "multiply", "divide"]), "number"],
        "number",
        examples=[[45, "add", 3], [3.14, "divide", 2], [144, "multiply", 2.5], [0, "subtract", 1.2]],
        title="Toy Calculator",
        description="Here's a sample toy calculator.",
        **interface_kwargs(config),
    )


if __name__ == "__main__":
    build_demo().launch()
