"""The ``incremental`` stage.

The no-op shortcut: the read recorder and the stamp a replay is answered from.

The launcher checks a stamp with the standard library alone, so this package imports
only :mod:`mcpbundle.base` and :mod:`mcpbundle.git`, lazily where it can.
"""
