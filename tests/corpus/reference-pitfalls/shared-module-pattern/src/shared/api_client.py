# shared/api_client.py
class APIClient:
    def __init__(self):
        # Initialize here
        pass

# Usage in other modules
