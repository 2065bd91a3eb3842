# ✅ Right: Validate first
from shared import Config

Config.validate()  # Validate immediately
API_URL = Config.API_URL
