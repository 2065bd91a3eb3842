"""The ``resolve`` stage: the one place a resolver runs.

Pinner settings and requests, the resolver runner, the shared lock and its annotated
output, the resolution cache. It imports the stages below it (plan, config, git, base).
"""
