# ❌ Wrong: Sync in async context
@mcp.tool()
async def fetch_data():
    response = requests.get(url)  # Blocking!
    return response.json()

