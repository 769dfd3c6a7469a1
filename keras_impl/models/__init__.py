"""Keras model builders; importing this package fills the registry."""

from keras_impl.models import applications, simple  # noqa: F401 - registers the builders
from keras_impl.models.registry import (
    HEAD_GROUP,
    BuildOptions,
    BuiltModel,
    build_model,
    get_model_entry,
    model_entries,
)

__all__ = ["HEAD_GROUP", "BuildOptions", "BuiltModel", "build_model", "get_model_entry", "model_entries"]
