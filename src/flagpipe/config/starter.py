"""The commented starter ``flagging.yaml`` that ``flagpipe init`` writes."""

STARTER_CONFIG = """\
# flagging.yaml: how this app flags samples and where each flag goes.
# Reference: docs/config.md. Validate with: flagpipe check flagging.yaml
version: 1

# manual: people press a Flag button; auto: every prediction is stored; never: nothing is stored.
# The environment variable FLAGPIPE_MODE overrides this.
mode: manual

# The reasons a person can pick. A string, or {label: ..., value: ...} to store a different value.
options:
  - wrong sign
  - off by one
  - other

# Where flags and their files are kept, relative to this file.
dir: flagged

# A name stored in every flag (optional).
app: calculator

# Declare fields up front (optional; otherwise the first flag defines them).
# fields:
#   - {name: num1, kind: number}
#   - {name: operation, kind: text}
#   - {name: num2, kind: number}
#   - {name: output, kind: number, role: output}

# Which plugins load (optional). The same switches exist as FLAGPIPE_* variables and CLI flags.
# plugins:
#   autoload: true
#   block: [some-plugin]
#   require: ["flagpipe-something>=1.0"]

# The chain: every flag goes to each callback, in order. Values may use ${VAR} or ${VAR:-default}.
callbacks:
  - type: csv
    file_name: log.csv
"""
