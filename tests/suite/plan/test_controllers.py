from suite.plan.controllers import EarlyStopper, PlateauController
from suite.spec.models import EarlyStoppingSpec, SchedulerSpec


def test_early_stopping_patience_and_min_delta() -> None:
    stopper = EarlyStopper(EarlyStoppingSpec(monitor="val_loss", patience=2, min_delta=0.01))
    assert stopper.update(0, {"val_loss": 1.0})
    assert stopper.update(1, {"val_loss": 0.9})
    assert not stopper.update(2, {"val_loss": 0.895})  # within min_delta: no improvement
    assert not stopper.should_stop
    assert not stopper.update(3, {"val_loss": 0.95})
    assert stopper.should_stop and stopper.best_epoch == 1 and stopper.restore_best


def test_early_stopping_on_accuracy_is_maximised() -> None:
    stopper = EarlyStopper(EarlyStoppingSpec(monitor="val_accuracy", patience=1))
    assert stopper.update(0, {"val_accuracy": 0.5})
    assert stopper.update(1, {"val_accuracy": 0.6})
    assert not stopper.update(2, {"val_accuracy": 0.55}) and stopper.should_stop


def test_without_spec_only_tracks_the_best() -> None:
    stopper = EarlyStopper(None)
    for epoch, loss in enumerate([1.0, 0.5, 0.7, 0.8, 0.9]):
        stopper.update(epoch, {"val_loss": loss})
    assert stopper.best_epoch == 1 and not stopper.should_stop and not stopper.restore_best


def test_plateau_reduces_after_patience_with_torch_threshold() -> None:
    plateau = PlateauController(SchedulerSpec(name="plateau", patience=1, factor=0.5))
    losses = [1.0, 0.99995, 0.99999, 0.5, 0.6, 0.7]  # 0.99995 is within the 1e-4 relative threshold
    decisions = [plateau.update(epoch, {"val_loss": loss}) for epoch, loss in enumerate(losses)]
    assert decisions == [False, False, True, False, False, True]
    assert plateau.scale == 0.25 and plateau.reductions == [2, 5]


def test_plateau_inactive_for_other_schedules() -> None:
    plateau = PlateauController(SchedulerSpec(name="cosine"))
    assert not any(plateau.update(e, {"val_loss": 1.0}) for e in range(20)) and plateau.scale == 1.0
