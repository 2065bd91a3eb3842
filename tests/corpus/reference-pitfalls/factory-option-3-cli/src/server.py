# server.py
def server_factory() -> FastMCP:
    """Factory function called by FastMCP CLI."""
    mcp = FastMCP(name="configured-server")
    # Configuration based on environment
    if os.getenv("PRODUCTION"):
        configure_production(mcp)
    return mcp

# Run with: fastmcp run server.py:server_factory
