"""A shared library."""
