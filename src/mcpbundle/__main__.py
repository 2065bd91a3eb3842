"""``python -m mcpbundle``."""

from mcpbundle.launch import main

if __name__ == "__main__":
    main()
