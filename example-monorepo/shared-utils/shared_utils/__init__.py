"""Helpers shared by every server in this repository."""

from shared_utils.settings import env_bool, env_float, env_int, env_str
from shared_utils.text import slugify, truncate, word_count

__all__ = [
    "env_bool",
    "env_float",
    "env_int",
    "env_str",
    "slugify",
    "truncate",
    "word_count",
]
__version__ = "0.3.0"
