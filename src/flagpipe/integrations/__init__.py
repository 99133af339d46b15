"""Adapters that plug flagpipe into UI frameworks; each imports its framework only when it is imported."""
