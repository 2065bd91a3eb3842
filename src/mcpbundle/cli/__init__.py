"""The ``cli`` stage.

The click commands, shared options, report formatting, the console-script launcher.

The top of the stack: it may import every stage; no stage imports it.
"""
