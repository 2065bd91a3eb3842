# Detect if running in FastMCP Cloud
import os

IS_CLOUD = os.getenv('FASTMCP_CLOUD', 'false').lower() == 'true'
IS_LOCAL = not IS_CLOUD

if IS_CLOUD:
    # Cloud-specific configuration
    LOG_LEVEL = 'INFO'
    CACHE_SIZE = 1000
else:
    # Local development settings
    LOG_LEVEL = 'DEBUG'
    CACHE_SIZE = 100
