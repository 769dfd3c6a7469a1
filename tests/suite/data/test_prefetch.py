"""``suite prefetch SPEC``: offline, one line per dataset and weights file, present or missing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from suite.cli import app


def _study(tmp_path: Path, experiments: str) -> Path:
    path = tmp_path / "study.toml"
    path.write_text(
        '[study]\nname = "p"\n[defaults]\nbackend = "torch"\ntraining = { epochs = 1 }\n' + experiments,
        encoding="utf-8",
    )
    return path


def test_offline_listing_names_what_is_present_and_missing(tmp_path: Path, helpers) -> None:  # noqa: ANN001
    keras_datasets = tmp_path / "keras_home" / "datasets"
    keras_datasets.mkdir(parents=True)
    np.savez(keras_datasets / "mnist.npz", **helpers.mnist_arrays())
    helpers.write_png(tmp_path / "flowers" / "rose" / "0.png", (8, 8))
    weights = tmp_path / "my_weights.pt"
    study = _study(
        tmp_path,
        f"""
[[experiments]]
name = "a"
dataset = {{ source = "mnist" }}
model = {{ name = "mlp" }}
[[experiments]]
name = "b"
dataset = {{ source = "cifar10" }}
model = {{ name = "resnet18", weights = "imagenet" }}
[[experiments]]
name = "c"
dataset = {{ source = "folder", path = "{tmp_path / "flowers"}" }}
model = {{ name = "resnet18", weights = "{weights}" }}
[[experiments]]
name = "d"
dataset = {{ source = "folder", path = "{tmp_path / "nowhere"}" }}
model = {{ name = "mlp" }}
""",
    )
    result = CliRunner().invoke(app, ["prefetch", str(study), "--offline"])
    lines = result.output.splitlines()
    assert result.exit_code == 1, result.output
    assert lines[0].split()[:3] == ["present", "dataset", "mnist"] and str(keras_datasets / "mnist.npz") in lines[0]
    assert lines[1].split()[:3] == ["missing", "dataset", "cifar10"] and "looked in" in lines[1]
    assert lines[2].split()[:3] == ["present", "dataset", "folder"]
    assert lines[3].split()[:3] == ["missing", "dataset", "folder"] and "nowhere" in lines[3]
    assert lines[4].split()[:3] == ["missing", "weights", "resnet18"] and "weights=imagenet" in lines[4]
    assert "resnet18-f37072fd.pth" in lines[4] and "download.pytorch.org" in lines[4]
    assert lines[5].startswith("missing") and str(weights) in lines[5]
    assert "copy to an offline machine" in lines[6] and str(tmp_path / "flowers") in result.output


def test_online_prefetch_downloads_through_the_loaders(tmp_path: Path, offline_empty_caches: list[str]) -> None:
    study = _study(tmp_path, '[[experiments]]\nname = "a"\ndataset = { source = "mnist" }\nmodel = { name = "mlp" }\n')
    result = CliRunner().invoke(app, ["prefetch", str(study)])
    assert result.exit_code == 1
    assert offline_empty_caches == ["https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"]
    assert "network is unreachable" in result.output  # the loader's own explanation, on the dataset's line


def test_everything_present_exits_zero(tmp_path: Path) -> None:
    study = _study(tmp_path, '[[experiments]]\nname = "a"\ndataset = { source = "digits" }\nmodel = { name = "mlp" }\n')
    result = CliRunner().invoke(app, ["prefetch", str(study), "--offline"])
    assert result.exit_code == 0 and result.output.startswith("present")


@pytest.mark.slow
def test_weights_files_come_from_each_backends_cache(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    torch_file = tmp_path / "torch_home" / "hub" / "checkpoints" / "resnet18-f37072fd.pth"
    torch_file.parent.mkdir(parents=True)
    torch_file.write_bytes(b"weights")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    study = _study(
        tmp_path,
        """
[[experiments]]
name = "t"
dataset = { source = "digits", image_size = 32, channels = 3 }
model = { name = "resnet18", weights = "imagenet" }
[[experiments]]
name = "k"
backend = "keras"
dataset = { source = "digits", image_size = 32, channels = 3 }
model = { name = "keras_mobilenet_v2", weights = "imagenet" }
""",
    )
    result = CliRunner().invoke(app, ["prefetch", str(study), "--offline"])
    lines = [line for line in result.output.splitlines() if " weights " in line]
    assert lines[0].startswith("present") and str(torch_file) in lines[0]
    # seed 003's 32 px: keras.applications (and both runners) read the 224 file; at 96-192 px Keras would read its
    # own size's file while the suite reads the 224 one (README, keras.applications networks)
    expected = tmp_path / "keras_home" / "models" / "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5"
    assert (
        lines[1].startswith("missing")
        and "keras_mobilenet_v2 (keras) weights=imagenet" in lines[1]
        and str(expected) in lines[1]
    )
