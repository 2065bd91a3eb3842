# ✅ Right: Paginate and limit
@mcp.tool()
async def get_data(page: int = 1, limit: int = 20):
    # Return manageable chunks
    return await fetch_paginated_data(page, limit)
