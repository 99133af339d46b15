#!/usr/bin/env bash
# The Gradio version matrix: tests/integrations/gradio/ against the newest release of each older Gradio major,
# each in a virtual environment of its own (.venv-gradio4, .venv-gradio5), created once and then reused.
# The newest major (6.x) is the one in .venv, where the whole suite runs, the browser tests included; here
# the browser tests (test_*browser*.py) are left out to keep CI short.
#   scripts/gradio_matrix.sh install   create or update the environments
#   scripts/gradio_matrix.sh test      run the Gradio tests in each (extra arguments go to pytest)
# GRADIO_MAJORS (default "4 5") picks the majors. Pins a major needs live in scripts/gradio<major>-constraints.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
MAJORS=${GRADIO_MAJORS:-"4 5"}
action=${1:-test}
shift || true

install() {
  local major=$1 venv=.venv-gradio$1
  if [ ! -x "$venv/bin/python" ]; then
    "$PYTHON" -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  # flagpipe with the extras the Gradio tests use, the test tools, and the pinned Gradio major.
  "$venv/bin/python" -m pip install --quiet -c "scripts/gradio$major-constraints.txt" \
    -e '.[hf,images,testing]' "gradio==$major.*" gradio_client pytest pytest-timeout starlette uvicorn
}

run_tests() {
  local major=$1 venv=.venv-gradio$1
  shift
  echo "== pytest tests/integrations/gradio on gradio $("$venv/bin/python" -c 'import gradio; print(gradio.__version__)')"
  # A base temp folder of its own (in the temp folder, where the tests' uploads must be), so that this run and
  # the main suite's, run at the same time, never meet.
  "$venv/bin/python" -m pytest tests/integrations/gradio -q -p no:cacheprovider --ignore-glob='*browser*' \
    --basetemp="${TMPDIR:-/tmp}/flagpipe-gradio$major-$$" "$@"
}

for major in $MAJORS; do
  case $action in
    install) install "$major" ;;
    test) run_tests "$major" "$@" ;;
    *) echo "usage: $0 install|test [pytest arguments]" >&2; exit 2 ;;
  esac
done
