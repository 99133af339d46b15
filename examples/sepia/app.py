"""The sepia filter from Gradio's flagging guide: a Blocks app that wires its own Flag button.

Run: pip install "flagpipe[gradio]" && python examples/sepia/app.py
The setup() and flag() calls are the guide's; only the callback is flagpipe's, the button's handler
returns nothing (its click has no output), and notice() shows the privacy notice from flagging.yaml
beside the button.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np

from flagpipe.integrations.gradio import FlagpipeCallback, notice

HERE = Path(__file__).parent


def sepia(input_img: Any, strength: float) -> Any:
    """The guide's filter."""
    if input_img is None:
        return None
    sepia_filter = strength * np.array([[0.393, 0.769, 0.189], [0.349, 0.686, 0.168], [0.272, 0.534, 0.131]]) + (
        1 - strength
    ) * np.identity(3)
    sepia_img = input_img[..., :3].dot(sepia_filter.T)
    sepia_img /= sepia_img.max() or 1
    return sepia_img


def build_demo(config: str | Path = HERE / "flagging.yaml") -> tuple[gr.Blocks, FlagpipeCallback]:
    """The guide's Blocks demo, and its callback (close it when the app stops)."""
    callback = FlagpipeCallback(config)

    def flag(*args: Any) -> None:
        """Store the flagged values. The click has no output, so this returns nothing: handing back
        flag()'s count would make Gradio warn that the function returned too many output values."""
        callback.flag(list(args))

    with gr.Blocks() as demo:
        with gr.Row():
            with gr.Column():
                img_input = gr.Image()
                strength = gr.Slider(0, 1, 0.5)
            img_output = gr.Image()
        with gr.Row():
            btn = gr.Button("Flag")
        notice(callback)

        # This needs to be called at some point prior to the first call to callback.flag()
        callback.setup([img_input, strength, img_output], "flagged_data_points")

        img_input.change(sepia, [img_input, strength], img_output)
        strength.change(sepia, [img_input, strength], img_output)

        # We can choose which components to flag -- in this case, we'll flag all of them
        btn.click(flag, [img_input, strength, img_output], None, preprocess=False)

    return demo, callback


if __name__ == "__main__":
    demo, callback = build_demo()
    with callback:
        demo.launch()
