"""Architectures as the core sees them: the catalog of shared networks, their layer groups and weight layouts.

Owns the catalog of architectures that are the same function in every backend (:mod:`~suite.architectures.catalog`),
the weight conversion between the neutral layout and Keras' (:mod:`~suite.architectures.convert`, one
``convert_<family>`` table per family; the keras.applications layout's declared base layers in
:mod:`~suite.architectures.keras_layout`), weight files read without a framework
(:mod:`~suite.architectures.weight_files`), the selection of layer groups a strategy freezes or unfreezes
(:mod:`~suite.architectures.groups`) and the seed-drawn initial weights every backend loads for
``model.init = "shared"`` (:mod:`~suite.architectures.shared_init`), and the framework-level parity notes
(:mod:`~suite.architectures.parity_notes`; a model's own note is in its catalog declaration). Pure numpy (and
h5py / safetensors for files), imported by the worker, preflight and parity processes; may import
``suite.spec.types`` and ``suite.runners.protocol`` only (``suite.spec`` and ``suite.strategies`` import it).
"""
