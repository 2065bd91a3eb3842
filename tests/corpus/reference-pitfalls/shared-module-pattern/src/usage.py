# Usage in other modules
from shared import APIClient
client = APIClient()  # Create instance when needed
