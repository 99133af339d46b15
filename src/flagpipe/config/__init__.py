"""Loading ``flagging.yaml``: YAML with line numbers, ``${ENV}`` interpolation, validation, JSON Schema."""
