"""Comparing deploys: ``mcpbundle diff`` (the MCP surface of what would ship against the
bundle at a ref) and ``mcpbundle verify --drift`` (the deploy branch against a rebuild of
its source commit).

An orchestrator above verify and deploy: it loads surfaces through :mod:`mcpbundle.verify`
and rebuilds through :mod:`mcpbundle.deploy`; only :mod:`mcpbundle.cli` imports it.
"""
