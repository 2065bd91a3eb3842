"""Make ``src/`` importable; shared_utils must be installed (``pip install -e ../shared-utils``)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
