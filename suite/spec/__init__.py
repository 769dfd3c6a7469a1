"""The study spec: a TOML/YAML file validated into typed, frozen models, expanded into runs, hashed to run ids.

Owns the spec models and their validation (:mod:`~suite.spec.models`), loading, ``--set`` overrides and matrix
expansion (:mod:`~suite.spec.loader`), the one-line errors (:mod:`~suite.spec.errors`) and serialisation back to
TOML with the stable run id (:mod:`~suite.spec.serialize`). Pure data with no side effects; runs in every process.
Imports nothing else of the suite but the declarations its models are built from (strategies, the ``tune``
section of :mod:`suite.tuning.space`) and the runner registry.
"""
