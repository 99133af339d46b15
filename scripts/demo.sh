#!/usr/bin/env bash
# Set up a virtual environment with flagpipe and run the calculator demo from the Gradio flagging guide.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e .
.venv/bin/python examples/calculator/flag_calculator.py "$@"
