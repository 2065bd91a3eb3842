# ❌ Will trigger warnings in Python 3.12+
from datetime import datetime
timestamp = datetime.utcnow()
hash_val = hashlib.md5(data)  # Missing usedforsecurity param

