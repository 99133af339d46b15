"""flagpipe's core: the event schema, hook specs, plugin manager, flagger, journal and delivery.

The core imports no plugin and no integration; plugins import only the public API in :mod:`flagpipe`.
"""
