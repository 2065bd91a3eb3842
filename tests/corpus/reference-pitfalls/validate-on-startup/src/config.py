class Config:
    API_KEY = os.getenv("API_KEY")
    API_URL = os.getenv("API_URL", "https://api.example.com")
    
    @classmethod
    def validate(cls):
        if not cls.API_KEY:
            raise ValueError("API_KEY environment variable is required")
        return True

# At module level
Config.validate()
