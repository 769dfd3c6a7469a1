"""Preflight: every problem of every run of a study, found before any training, one line each.

:mod:`~suite.preflight.check` runs in the ``suite`` process (``suite run`` and ``suite validate``) and asks each
backend, in one :mod:`~suite.preflight.introspect` child process per backend and engine
(``python -m suite.preflight.introspect``), about models, groups, freeze ranges and devices; the same child answers
``suite list`` and ``suite describe``. May import ``suite.spec``, ``suite.plan``, ``suite.data`` and
``suite.runners``; never ``suite.execution`` or ``suite.cli``.
"""
