"""The ``emit`` stage: the only writers.

The directory output (staged and swapped in), the deploy branch, the manifest and
DEPLOY.md, the output lock and ownership marker, secret scanning, the pyproject rewrite.
It imports resolve and the stages below it.
"""
