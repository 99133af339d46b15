#!/usr/bin/env bash
# Set up a virtual environment with everything the tests need, then run the linters and the whole suite.
# Needs only Python (>= 3.10) and pip. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
# The sample third-party plugin, installed by pip into a site folder of its own (see tests/core/host/test_sample_plugin.py).
.venv/bin/python -m pip install --quiet --upgrade --no-deps --target .venv/sample-plugins ./examples/flagpipe-jsonl
# The Gradio version matrix: one environment per older Gradio major (.venv-gradio4, .venv-gradio5); GRADIO_MATRIX=0 skips it.
if [ "${GRADIO_MATRIX:-1}" != 0 ]; then
  echo "== Gradio matrix environments"
  bash scripts/gradio_matrix.sh install
fi
echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check src tests scripts examples benchmarks
echo "== mypy --strict"
.venv/bin/mypy
echo "== mkdocs build --strict"
NO_MKDOCS_2_WARNING=1 .venv/bin/mkdocs build --strict --quiet --site-dir site
# The browser test (tests/integrations/gradio/test_browser.py) drives Debian's Chromium; install it when we can (root, apt).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== apt-get install chromium"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1 \
    || echo "chromium could not be installed; the browser test will be skipped"
fi
echo "== pytest"
# The Gradio matrix runs beside the main suite, on the second core: its tests bind port 0 and keep their files
# in a base temp folder of their own, so the two runs share nothing. Its output follows the main suite's.
matrix_pid=
if [ "${GRADIO_MATRIX:-1}" != 0 ]; then
  matrix_log=$(mktemp)
  bash scripts/gradio_matrix.sh test >"$matrix_log" 2>&1 &
  matrix_pid=$!
fi
status=0
.venv/bin/python -m pytest "$@" || status=$?
if [ -n "$matrix_pid" ]; then
  matrix_status=0
  wait "$matrix_pid" || matrix_status=$?
  cat "$matrix_log"
  rm -f "$matrix_log"
  if [ "$status" = 0 ] && [ "$matrix_status" != 0 ]; then
    status=$matrix_status
  fi
fi
exit "$status"
