"""The ``base`` stage.

Errors, the one subprocess runner, progress, the cache directory, machine facts.

It imports nothing else of mcpbundle.
"""
