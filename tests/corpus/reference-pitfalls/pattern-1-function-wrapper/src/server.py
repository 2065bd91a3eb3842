# This fails if not exposed at module level
def create_server():
    mcp = FastMCP(name="my-server")
    
    @mcp.tool()
    async def my_tool():
        pass
    
    return mcp

# FAILS: Not at module level
if __name__ == "__main__":
    server = create_server()  # Not accessible to FastMCP Cloud
