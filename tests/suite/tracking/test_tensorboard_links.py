"""``tensorboard --logdir OUT/tensorboard`` lists every run by its run name, with the core's epoch scalars."""

import os
from pathlib import Path

from suite import store
from suite.tracking.tensorboard_links import LINKS_DIR, link_name, link_run
from suite.training.tensorboard import EpochLogger

ROW = {"epoch": 0, "train_loss": 1.0, "val_loss": 0.5, "lr": 0.1, "lr_head": 0.1, "seconds": 2.0}


def _events(out: Path, run_id: str, rows: int = 1) -> None:
    logger = EpochLogger(store.run_dir(out, run_id) / "tensorboard", every_n_steps=1)
    for epoch in range(rows):
        logger.epoch({**ROW, "epoch": epoch})
    logger.close()


def test_link_name_keeps_run_names_readable() -> None:
    assert link_name("resnet18[backend=torch,freeze=3,seed=1]") == "resnet18[backend=torch,freeze=3,seed=1]"
    assert link_name("a/b c") == "a_b_c"
    assert link_name("..") == "run"


def test_links_point_at_each_runs_event_directory(tmp_path: Path) -> None:
    _events(tmp_path, "aaa")
    link = link_run(tmp_path, "aaa", "mlp[seed=0]")
    assert link == tmp_path / LINKS_DIR / "mlp[seed=0]"
    assert os.readlink(link) == "../runs/aaa/tensorboard"  # relative: the output directory can move
    assert link.resolve() == (tmp_path / "runs" / "aaa" / "tensorboard").resolve()
    assert link_run(tmp_path, "aaa", "mlp[seed=0]") == link  # idempotent
    _events(tmp_path, "bbb")
    link_run(tmp_path, "bbb", "mlp[seed=0]")  # same name, newer spec: the latest run wins
    assert os.readlink(link) == "../runs/bbb/tensorboard"
    assert link_run(tmp_path, "ccc", "no events") is None
    assert sorted(path.name for path in (tmp_path / LINKS_DIR).iterdir()) == ["mlp[seed=0]"]


def test_tensorboard_reads_runs_by_name(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer

    for run_id, name, epochs in (("aaa", "mlp[backend=torch]", 2), ("bbb", "mlp[backend=keras]", 3)):
        _events(tmp_path, run_id, epochs)
        link_run(tmp_path, run_id, name)
    multiplexer = EventMultiplexer().AddRunsFromDirectory(str(tmp_path / LINKS_DIR)).Reload()
    runs = multiplexer.Runs()
    assert sorted(runs) == ["mlp[backend=keras]", "mlp[backend=torch]"]
    assert {"train_loss", "val_loss", "lr", "lr_head", "epoch_seconds"} <= set(runs["mlp[backend=keras]"]["scalars"])
    assert [event.step for event in multiplexer.Scalars("mlp[backend=keras]", "val_loss")] == [1, 2, 3]


def test_tensorboard_and_mlflow_use_one_vocabulary(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from suite.tracking.stored import epoch_series

    _events(tmp_path, "aaa", 2)
    events = EventAccumulator(str(store.run_dir(tmp_path, "aaa") / "tensorboard")).Reload()
    history = [{key: str(value) for key, value in {**ROW, "epoch": epoch}.items()} for epoch in range(2)]
    assert set(events.Tags()["scalars"]) == set(epoch_series(history))
