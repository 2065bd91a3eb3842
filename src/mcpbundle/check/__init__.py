"""The ``check`` stage: static checks that a server will load in the hosted runtime.

Nothing of the user's code is imported: :mod:`~mcpbundle.check.engine` runs the
rules (``rules_*``) over one shared parse of each file (:mod:`~mcpbundle.check.context`);
:mod:`~mcpbundle.check.targets` builds what is checked from a plan or a built output.
It reads what plan and emit produced and imports emit and the stages below it.
"""
