# ✅ Future-proof code
from datetime import datetime, timezone
timestamp = datetime.now(timezone.utc)
hash_val = hashlib.md5(data, usedforsecurity=False)
