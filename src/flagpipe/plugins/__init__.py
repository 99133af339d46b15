"""Built-in plugins. Each is an ordinary pluggy plugin module using only flagpipe's public API."""
