mcp = 1
