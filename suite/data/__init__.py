"""Data into plain arrays shared by every backend: uint8 NHWC images and integer labels, split from the seed.

Owns the data-source registry and its sources (:mod:`~suite.data.sources`), loading and deterministic splits,
the decoded-data cache, preprocessing (resize and normalisation written once) and ``suite prefetch``
(:mod:`~suite.preflight.prefetch`). Runs in the worker process (loading) and in the ``suite`` process (prefetch,
cache commands); never imports a framework. May import ``suite.spec``.
"""
