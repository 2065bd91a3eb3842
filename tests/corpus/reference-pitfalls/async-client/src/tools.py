# ✅ Right: Use async client
import httpx

@mcp.tool()
async def fetch_data():
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
        return response.json()
