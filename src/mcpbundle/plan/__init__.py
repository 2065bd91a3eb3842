"""The ``plan`` stage: what each server ships and requires, decided without writing anything.

Requirement sources and their classification, library discovery and closure, the files
that may ship, shims, dist-info and licences, SDK fixes, git requirements, the target
Python. It imports :mod:`mcpbundle.config`, :mod:`mcpbundle.git` and :mod:`mcpbundle.base`.
"""
