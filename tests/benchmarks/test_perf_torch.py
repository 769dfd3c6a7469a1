"""benchmarks/perf_torch.py runs as it is, with tiny arguments."""

from benchmark_scripts import load_script

TINY = ["--image-size", "32", "--train-images", "16", "--eval-images", "8", "--batch-size", "8",
        "--cache-epochs", "1", "--device", "cpu"]  # fmt: skip


def test_tiny_run_measures_every_part(capsys) -> None:
    report = load_script("perf_torch").main(TINY)
    assert report["plain_fp32_nchw_ips"] > 0 and report["runner_fp32_nchw_ips"] > 0
    assert report["cached"]["train_seconds"] > 0 and report["uncached"]["train_seconds"] > 0
    assert report["b_same_test_accuracy"] is True
    printed = capsys.readouterr().out
    assert "(a) runner defaults" in printed and "(c) runner overhead" in printed
