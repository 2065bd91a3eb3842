# ❌ Wrong: Client at module level
import httpx

# This creates the client before event loop exists
client = httpx.AsyncClient()

@mcp.tool()
async def fetch_data():
    return await client.get(url)

