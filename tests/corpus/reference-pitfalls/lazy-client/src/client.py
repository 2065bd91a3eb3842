# ✅ Right: Create client when needed
import httpx

# Store as None initially
_client = None

async def get_client():
    global _client
    if _client is None:
        _client = httpx.AsyncClient()
    return _client

@mcp.tool()
async def fetch_data():
    client = await get_client()
    return await client.get(url)
