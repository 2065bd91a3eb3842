# server.py
from fastmcp import FastMCP

# MUST be at module level
mcp = FastMCP(
    name="my-server",
    version="1.0.0"
)

# Tools registered at module level
@mcp.tool()
async def my_tool(param: str) -> str:
    """Tool description."""
    return f"Result: {param}"

# Optional: main() for local execution
def main():
    import asyncio
    asyncio.run(mcp.run())

if __name__ == "__main__":
    main()
