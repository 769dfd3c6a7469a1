"""benchmarks/perf_augment.py runs as it is, with tiny arguments; the Imagenette parts on a tiny JPEG folder."""

import numpy as np
import pytest
from benchmark_scripts import load_script
from PIL import Image


def test_tiny_run_measures_the_small_images_and_skips_a_missing_folder(tmp_path, capsys) -> None:
    args = ["--data", str(tmp_path / "absent"), "--small-train", "64", "--small-eval", "16"]
    results = load_script("perf_augment").main(args)
    small = results["small"]
    assert small["simple_cnn_train_img_s"] > 0 and small["augment_flip_crop_img_s"] > 0
    assert set(results) == {"small"}
    printed = capsys.readouterr().out
    assert "the 224 px and cache measurements are skipped" in printed and "(a) 32x32 flip+crop" in printed


@pytest.mark.slow
def test_the_imagenette_parts_run_on_a_tiny_jpeg_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TLBENCH_CACHE", str(tmp_path / "unused"))  # the script points it at its own scratch
    rng = np.random.default_rng(0)
    for index in range(10):
        folder = tmp_path / "imagenette" / "train" / f"n{index:08d}"
        folder.mkdir(parents=True)
        for image in range(3):
            pixels = rng.integers(0, 256, (40, 48, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{image}.JPEG", quality=90)
    args = ["--data", str(tmp_path / "imagenette"), "--small-train", "64", "--small-eval", "16",
            "--per-class", "3", "--large-train", "4", "--large-eval", "8"]  # fmt: skip
    results = load_script("perf_augment").main(args)
    assert results["large"]["resnet18_train_img_s"] > 0 and results["cache"]["load_s_first"] > 0
