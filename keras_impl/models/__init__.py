"""The Keras runner's models: the registry and its builders; importing this package fills the registry.

Mirrors ``torch_impl/models/`` module by module; imported in the worker and in child processes only.
"""

from keras_impl.models import applications, keras_layout, keras_mbconv, shared, simple  # noqa: F401 - registers the builders
from keras_impl.models.registry import (
    HEAD_GROUP,
    BuildOptions,
    BuiltModel,
    build_model,
    get_model_entry,
    model_entries,
)

__all__ = ["HEAD_GROUP", "BuildOptions", "BuiltModel", "build_model", "get_model_entry", "model_entries"]
