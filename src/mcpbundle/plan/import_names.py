"""Distributions whose import name differs from their name (shared by check and plan)."""

from __future__ import annotations

from packaging.utils import canonicalize_name

# canonical distribution name -> import names, where the name does not say it
KNOWN_IMPORTS: dict[str, tuple[str, ...]] = {
    "python-dotenv": ("dotenv",),
    "pyyaml": ("yaml", "_yaml"),
    "pillow": ("PIL",),
    "beautifulsoup4": ("bs4",),
    "scikit-learn": ("sklearn",),
    "scikit-image": ("skimage",),
    "opencv-python": ("cv2",),
    "opencv-python-headless": ("cv2",),
    "opencv-contrib-python": ("cv2",),
    "opencv-contrib-python-headless": ("cv2",),
    "attrs": ("attr", "attrs"),
    "protobuf": ("google",),
    "pyjwt": ("jwt",),
    "python-dateutil": ("dateutil",),
    "msgpack-python": ("msgpack",),
    "python-multipart": ("multipart", "python_multipart"),
    "pymupdf": ("fitz", "pymupdf"),
    "pycryptodome": ("Crypto",),
    "pycryptodomex": ("Cryptodome",),
    "pyopenssl": ("OpenSSL",),
    "python-magic": ("magic",),
    "python-docx": ("docx",),
    "python-pptx": ("pptx",),
    "python-jose": ("jose",),
    "python-slugify": ("slugify",),
    "python-json-logger": ("pythonjsonlogger",),
    "pyserial": ("serial",),
    "pyzmq": ("zmq",),
    "pywin32": ("win32api", "win32con", "win32com", "pywintypes", "pythoncom"),
    "google-api-python-client": ("googleapiclient",),
    "grpcio": ("grpc",),
    "psycopg2-binary": ("psycopg2",),
    "psycopg-binary": ("psycopg_binary",),
    "mysqlclient": ("MySQLdb",),
    "dnspython": ("dns",),
    "gitpython": ("git",),
    "ruamel-yaml": ("ruamel",),
    "markdown-it-py": ("markdown_it",),
    "discord-py": ("discord",),
    "faiss-cpu": ("faiss",),
    "faiss-gpu": ("faiss",),
    "pdfminer-six": ("pdfminer",),
    "python-levenshtein": ("Levenshtein",),
    "levenshtein": ("Levenshtein",),
    "umap-learn": ("umap",),
    "argon2-cffi": ("argon2",),
    "pygithub": ("github",),
    "websocket-client": ("websocket",),
    "py-key-value-aio": ("key_value",),
    "fastmcp-slim": ("fastmcp",),
    "setuptools": ("setuptools", "pkg_resources", "_distutils_hack"),
    "pyobjc": ("objc",),
    "ldap3": ("ldap3",),
    "python-ldap": ("ldap",),
    "pysocks": ("socks", "sockshandler"),
    "typing-extensions": ("typing_extensions",),
    "email-validator": ("email_validator",),
    "tensorflow-cpu": ("tensorflow",),
    "torch": ("torch",),
    "pytorch-lightning": ("pytorch_lightning",),
    "llama-index": ("llama_index",),
    "duckduckgo-search": ("duckduckgo_search",),
    "twilio": ("twilio",),
    "azure-identity": ("azure",),
    "google-auth": ("google",),
    "google-genai": ("google",),
    "google-generativeai": ("google",),
    "google-cloud-aiplatform": ("google", "vertexai"),
    "google-search-results": ("serpapi",),
    "pymongo": ("pymongo", "bson", "gridfs"),
    "python-telegram-bot": ("telegram",),
    "pytelegrambotapi": ("telebot",),
    "py-cord": ("discord",),
    "newspaper3k": ("newspaper",),
    "newspaper4k": ("newspaper",),
    "opensearch-py": ("opensearchpy",),
    "speechrecognition": ("speech_recognition",),
    "mem0ai": ("mem0",),
    "pycairo": ("cairo",),
    "pygobject": ("gi",),
    "wxpython": ("wx",),
    "pybluez": ("bluetooth",),
}


def import_names(distribution: str) -> tuple[str, ...]:
    """The top-level import names a distribution is known (or named) to provide."""
    canonical = canonicalize_name(distribution)
    return KNOWN_IMPORTS.get(canonical, (canonical.replace("-", "_"),))


def distribution_for(module: str) -> str | None:
    """The one distribution the table says provides ``module`` (``PIL`` -> ``pillow``), or
    None when it names none or several (``google`` comes from many)."""
    named = sorted({dist for dist, names in KNOWN_IMPORTS.items() if module in names})
    return named[0] if len(named) == 1 else None
