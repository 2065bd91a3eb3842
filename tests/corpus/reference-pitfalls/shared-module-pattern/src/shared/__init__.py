# shared/__init__.py
# Direct exports, no factory functions
from .api_client import APIClient
from .cache import CacheManager
from .config import Config

__all__ = ['APIClient', 'CacheManager', 'Config']

# shared/api_client.py
