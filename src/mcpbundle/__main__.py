"""``python -m mcpbundle``."""

from mcpbundle.cli import main

if __name__ == "__main__":
    main()
