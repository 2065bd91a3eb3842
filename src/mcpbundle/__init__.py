"""mcpbundle: deploy-ready bundles of FastMCP servers from a Python monorepo."""

__version__ = "0.1.0"
