"""The ``verify`` stage: install and load each built server the way the host does,
contained and in parallel.

It reads what emit wrote (the manifest) and what a plan says (the source tree's load);
it never imports check, and nothing below it imports it.
"""
