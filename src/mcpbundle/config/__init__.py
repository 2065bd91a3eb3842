"""The ``config`` stage.

``mcpbundle.toml`` read (syntax) and validated (meaning) into frozen dataclasses.

It imports only :mod:`mcpbundle.base`.
"""
