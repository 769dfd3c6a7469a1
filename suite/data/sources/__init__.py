"""Built-in dataset sources; importing this package registers each of them."""

from suite.data.sources import cifar10, digits, folder, hf, mnist

__all__ = ["cifar10", "digits", "folder", "hf", "mnist"]
