import os
from dotenv import load_dotenv

load_dotenv()

# Good: Has defaults
API_URL = os.getenv("API_URL", "https://api.example.com")
TIMEOUT = int(os.getenv("TIMEOUT", "30"))
DEBUG = os.getenv("DEBUG", "false").lower() == "true"

# Bad: Will crash if not set
API_KEY = os.environ["API_KEY"]  # KeyError if missing
