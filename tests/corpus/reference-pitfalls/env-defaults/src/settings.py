import os
from dotenv import load_dotenv

load_dotenv()

# Good: Has defaults
API_URL = os.getenv("API_URL", "https://api.example.com")
TIMEOUT = int(os.getenv("TIMEOUT", "30"))
DEBUG = os.getenv("DEBUG", "false").lower() == "true"

