# server.py
from fastmcp import FastMCP

async def create_server() -> FastMCP:
    """Async factory for complex initialization."""
    mcp = FastMCP(name="my-server")
    
    # Can perform async setup here
    await setup_database()
    
    @mcp.tool()
    async def query_data(query: str) -> dict:
        return await fetch_data(query)
    
    return mcp

# For FastMCP Cloud - expose at module level
mcp = asyncio.run(create_server())

# Or use with CLI
# fastmcp run server.py:create_server
