# server.py
from fastmcp import FastMCP

def create_server() -> FastMCP:
    """Factory function to create and configure server."""
    mcp = FastMCP(name="my-server")
    
    @mcp.tool()
    async def my_tool(param: str) -> str:
        return f"Result: {param}"
    
    # Additional setup
    return mcp

# Module-level assignment - FastMCP Cloud can find this
mcp = create_server()
