"""The ``git`` stage.

Reading the source repository: git calls, its state, the git-requirement cache.

It imports only :mod:`mcpbundle.base`.
"""
