"""Where the frameworks cache datasets, and the one download function every source uses.

The suite never imports keras or torchvision, so it looks for their caches itself:
keras keeps files in ``$KERAS_HOME/datasets`` (``~/.keras``, falling back to ``/tmp/.keras``
when that is not writable); torchvision has no default root, so the usual ``./data`` and
``$TORCH_HOME/datasets`` (``~/.cache/torch``) are searched. Downloads go where keras puts them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from suite.data.registry import DatasetUnavailableError

DOWNLOAD_TIMEOUT_SECONDS = 5.0


def keras_dataset_dirs() -> list[Path]:
    """Directories where ``keras.datasets`` stores its files, most likely first."""
    home = Path(os.environ.get("KERAS_HOME", "~/.keras")).expanduser()
    fallback = Path(tempfile.gettempdir()) / ".keras"
    return _unique([home / "datasets", fallback / "datasets"])


def torchvision_roots() -> list[Path]:
    """Common ``root=`` directories passed to torchvision datasets."""
    torch_home = Path(os.environ.get("TORCH_HOME", "~/.cache/torch")).expanduser()
    return _unique([Path("data").resolve(), torch_home / "datasets"])


def _unique(paths: list[Path]) -> list[Path]:
    return list(dict.fromkeys(paths))


def fetch(url: str, destination: Path, sha256: str | None = None, timeout: float = DOWNLOAD_TIMEOUT_SECONDS) -> Path:
    """Download ``url`` to ``destination`` (atomically), checking its SHA-256 when given.

    Raises ``urllib.error.URLError``/``OSError`` when the network is unreachable and
    ``ValueError`` when the file's hash does not match.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    digest = hashlib.sha256()
    with urllib.request.urlopen(url, timeout=timeout) as response, partial.open("wb") as out:
        while chunk := response.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    if sha256 is not None and digest.hexdigest() != sha256:
        partial.unlink()
        raise ValueError(f"downloaded {url} but its SHA-256 is {digest.hexdigest()}, expected {sha256}")
    shutil.move(partial, destination)
    return destination


def download_directory() -> Path:
    """The first writable keras dataset directory (where a download is saved)."""
    for directory in keras_dataset_dirs():
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(directory, os.W_OK):
            return directory
    raise DatasetUnavailableError(f"none of {[str(d) for d in keras_dataset_dirs()]} is writable for a download")


def unavailable(dataset: str, checked: list[Path], how_to: str, reason: str) -> DatasetUnavailableError:
    """The error raised when a dataset is missing: why, every path checked, and how to provide the files."""
    looked = "\n".join(f"  - {path}" for path in checked) or "  (nowhere)"
    return DatasetUnavailableError(
        f"{dataset} is not available: {reason}.\nLooked in:\n{looked}\nTo provide it: {how_to}"
    )


def download_or_explain(
    url: str, filename: str, sha256: str | None, dataset: str, checked: list[Path], how_to: str
) -> Path:
    """Download ``url`` into the keras dataset directory, or raise DatasetUnavailableError saying where we looked."""
    try:
        destination = download_directory() / filename
        return fetch(url, destination, sha256)
    except (urllib.error.URLError, OSError, ValueError, DatasetUnavailableError) as error:
        raise unavailable(
            dataset, checked, how_to, f"not found locally and downloading {url} failed ({error})"
        ) from error
