"""Opt into flagpipe's test kit: its fixtures and the callback contract."""

pytest_plugins = ["flagpipe.testing"]
