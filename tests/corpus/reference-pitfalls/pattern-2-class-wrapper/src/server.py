# This also fails without module-level exposure
class MyServer:
    def __init__(self):
        self.mcp = FastMCP(name="my-server")
    
    def setup(self):
        @self.mcp.tool()
        async def my_tool():
            pass

# FAILS: Instance not at module level
if __name__ == "__main__":
    server_instance = MyServer()
