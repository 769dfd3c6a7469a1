"""Is augmentation the bottleneck? And what does the decoded-data cache save? Measured in one run.

(a) 32x32x3: the core's augmented batches (flip + pad-4 crop; and every augmentation on) prepared by one
    background thread, in img/s, against the simple CNN's training img/s in the torch runner (through the
    core's ``execute``, runner defaults); plus the simple CNN's epoch time with augmentation on vs off.
(b) 224x224: random-resized-crop + flip batches against ResNet18's training img/s (precision auto = bf16
    where the CPU has it, channels_last), on Imagenette JPEGs decoded at 224 px.
(c) Decoded-data cache: loading a 1,000-image JPEG folder (100 Imagenette images per class, linked from
    ../shared/data/imagenette2-160, nothing copied) at 224 px with an empty cache, then again.

    python benchmarks/perf_augment.py                      # about two minutes on 2 CPU cores
    python benchmarks/perf_augment.py --data /path/to/imagenette2-160 --json perf_augment.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as suite.execution.executor's workers: no OpenMP spin-wait fight

import numpy as np  # noqa: E402

from suite.augment import Augmenter  # noqa: E402
from suite.data.bundle import DataBundle, Split  # noqa: E402
from suite.data.preprocess import Preprocessing  # noqa: E402
from suite.runners.progress import NullProgress  # noqa: E402
from suite.spec.models import AugmentSpec, ExperimentSpec  # noqa: E402
from suite.training.batches import AugmentedInputs, epoch_order  # noqa: E402
from suite.training.run import execute  # noqa: E402

CIFAR_RECIPE = {"flip": "horizontal", "crop": {"padding": 4}}
EVERYTHING = {
    **CIFAR_RECIPE,
    "rotation": 10,
    "translate": 0.1,
    "color_jitter": {"brightness": 0.2, "contrast": 0.2, "saturation": 0.2},
    "mixup": 0.2,
    "cutmix": 1.0,
}
RRC_RECIPE = {"flip": "horizontal", "random_resized_crop": {"scale": [0.08, 1.0], "ratio": [0.75, 1.333]}}
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "imagenette2-160"


def bundle_of(images: np.ndarray, labels: np.ndarray, n_train: int, n_eval: int) -> DataBundle:
    cuts = [(0, n_train), (n_train, n_train + n_eval), (n_train + n_eval, n_train + 2 * n_eval)]
    train, val, test = (Split(images[a:b], labels[a:b]) for a, b in cuts)
    return DataBundle(train, val, test, [str(i) for i in range(10)], Preprocessing(normalization="imagenet"), "bench")


def augment_rate(split: Split, recipe: dict, batch_size: int, epochs: int = 2) -> float:
    """Images/s of the core's augmented, normalised, fingerprinted batches (one background thread)."""
    augmenter = Augmenter(AugmentSpec(**recipe), 0, 10)
    inputs = AugmentedInputs(split, Preprocessing(normalization="imagenet"), augmenter, np.arange(len(split)))
    started = time.perf_counter()
    for epoch in range(epochs):
        for _ in inputs.epoch_batches(batch_size, epoch_order(0, epoch, len(split)), epoch):
            pass
    return epochs * len(split) / (time.perf_counter() - started)


def train(data: DataBundle, model: str, batch_size: int, augment: dict | None = None) -> tuple[float, float]:
    """(training img/s without warm-up, epoch seconds) of one epoch in the torch runner via the core."""
    from torch_impl.runner import TorchRunner

    dataset = {"source": "digits", **({"augment": augment} if augment else {})}
    spec = ExperimentSpec.model_validate({
        "name": "perf", "backend": "torch", "dataset": dataset, "model": {"name": model},
        "optimizer": {"name": "adam", "lr": 1e-3}, "training": {"epochs": 1, "batch_size": batch_size},
    })  # fmt: skip
    with tempfile.TemporaryDirectory() as run_dir:
        output = execute(spec, TorchRunner(), data, Path(run_dir), NullProgress())
    return output.timing.train_images_per_second, output.timing.epoch_seconds_mean


def small_images(args: argparse.Namespace) -> dict[str, float]:
    rng = np.random.default_rng(0)
    n = args.small_train
    images = rng.integers(0, 256, (n + 2 * args.small_eval, 32, 32, 3), dtype=np.uint8)
    labels = (np.arange(len(images)) % 10).astype(np.int64)
    data = bundle_of(images, labels, n, args.small_eval)
    train_rate, plain_epoch = train(data, "simple_cnn", 64)
    _, augmented_epoch = train(data, "simple_cnn", 64, CIFAR_RECIPE)
    cifar, everything = augment_rate(data.train, CIFAR_RECIPE, 64), augment_rate(data.train, EVERYTHING, 64)
    return {
        "simple_cnn_train_img_s": train_rate,
        "augment_flip_crop_img_s": cifar,
        "augment_everything_img_s": everything,
        "ratio_flip_crop": cifar / train_rate,
        "ratio_everything": everything / train_rate,
        "epoch_s_plain": plain_epoch,
        "epoch_s_augmented": augmented_epoch,
    }


def imagenette_folder(source: Path, per_class: int, into: Path) -> Path:
    """An ImageFolder of ``per_class`` symlinked JPEGs per class (the data stays where it is)."""
    for class_dir in sorted((source / "train").iterdir()):
        (into / class_dir.name).mkdir(parents=True)
        for jpeg in sorted(class_dir.iterdir())[:per_class]:
            (into / class_dir.name / jpeg.name).symlink_to(jpeg)
    return into


def large_images(args: argparse.Namespace, folder: Path) -> dict[str, float]:
    from suite.data.sources.folder import load_folder
    from suite.spec.models import DatasetSpec

    images, labels = load_folder(DatasetSpec(source="folder", path=str(folder), image_size=224)).splits["train"]
    order = np.random.default_rng(0).permutation(len(labels))
    images, labels = images[order], labels[order]
    rrc = augment_rate(Split(images[:512], labels[:512]), RRC_RECIPE, 16, epochs=1)
    train_rate, _ = train(bundle_of(images, labels, args.large_train, args.large_eval), "resnet18", 16)
    return {"resnet18_train_img_s": train_rate, "augment_rrc_flip_224_img_s": rrc, "ratio_rrc_flip": rrc / train_rate}


def cache_timing(folder: Path, cache_dir: Path) -> dict[str, float]:
    from suite.data.loading import load_bundle
    from suite.spec.models import DatasetSpec

    os.environ["TLBENCH_CACHE"] = str(cache_dir)
    spec = DatasetSpec(source="folder", path=str(folder), image_size=224)
    seconds = []
    for _ in range(2):
        started = time.perf_counter()
        bundle = load_bundle(spec, seed=0)
        np.asarray(bundle.train.images).sum()  # touch every pixel: a lazy mapping must not flatter the cache
        seconds.append(time.perf_counter() - started)
    return {"load_s_first": seconds[0], "load_s_second": seconds[1], "cache_speedup": seconds[0] / seconds[1]}


def main(argv: list[str] | None = None) -> dict:
    """Measure (a), and (b) and (c) where the Imagenette folder exists; print and return the numbers."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="imagenette2-160 directory")
    parser.add_argument("--small-train", type=int, default=2048, help="32x32 training images")
    parser.add_argument("--small-eval", type=int, default=256, help="32x32 validation and test images (each)")
    parser.add_argument("--large-train", type=int, default=64, help="224x224 training images for ResNet18")
    parser.add_argument("--large-eval", type=int, default=16, help="224x224 validation and test images (each)")
    parser.add_argument("--per-class", type=int, default=100, help="Imagenette JPEGs per class for (b) and (c)")
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args(argv)
    results = {"small": small_images(args)}
    if args.data.is_dir():
        with tempfile.TemporaryDirectory() as scratch:
            folder = imagenette_folder(args.data, args.per_class, Path(scratch) / "folder")
            results["cache"] = cache_timing(folder, Path(scratch) / "cache")
            results["large"] = large_images(args, folder)
    else:
        print(f"{args.data} not found: the 224 px and cache measurements are skipped")
    print(json.dumps(results, indent=1))
    small = results["small"]
    print(f"(a) 32x32 flip+crop: {small['augment_flip_crop_img_s']:.0f} img/s vs simple_cnn training "
          f"{small['simple_cnn_train_img_s']:.0f} img/s = {small['ratio_flip_crop']:.1f}x "
          f"(everything on: {small['ratio_everything']:.1f}x); epoch {small['epoch_s_plain']:.2f} s plain, "
          f"{small['epoch_s_augmented']:.2f} s augmented")  # fmt: skip
    if "large" in results:
        large, cache = results["large"], results["cache"]
        print(f"(b) 224 random-resized-crop+flip: {large['augment_rrc_flip_224_img_s']:.0f} img/s vs ResNet18 "
              f"training {large['resnet18_train_img_s']:.1f} img/s = {large['ratio_rrc_flip']:.1f}x")  # fmt: skip
        print(f"(c) {10 * args.per_class:,} JPEGs at 224 px: first load {cache['load_s_first']:.2f} s, second "
              f"{cache['load_s_second']:.3f} s = {cache['cache_speedup']:.0f}x faster")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return results


if __name__ == "__main__":
    main(sys.argv[1:])
