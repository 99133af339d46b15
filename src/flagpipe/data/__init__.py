"""Flags read back, exported and imported: the journal, Gradio CSV folders, JSON Lines and Parquet."""
