mcp = None
