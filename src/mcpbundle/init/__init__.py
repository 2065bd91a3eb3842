"""The ``init`` stage: propose a commented ``mcpbundle.toml`` for an existing repository.

It reads the repository statically (``ast``, ``tomllib``; user code is never imported)
through the plan stage's readers and writes the file with tomlkit. It imports plan,
config, git and base; only :mod:`mcpbundle.cli` imports it.
"""
