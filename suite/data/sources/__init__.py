"""Built-in dataset sources (digits, MNIST, CIFAR-10, image folders, Hugging Face datasets).

Importing this package registers each of them with :mod:`suite.data.registry`; they run in the worker.
"""

from suite.data.sources import cifar10, digits, folder, hf, mnist

__all__ = ["cifar10", "digits", "folder", "hf", "mnist"]
