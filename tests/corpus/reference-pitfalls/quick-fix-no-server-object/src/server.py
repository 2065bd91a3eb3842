# Add at module level:
mcp = FastMCP(name="your-server")
# or
server = FastMCP(name="your-server")
# or
app = FastMCP(name="your-server")
