import json

import pandas as pd
import pytest

from reports.cross_framework import data_note, parity_note


def _runs(init: str, other_logits: list, note: str = "", other_order: str = "abc") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "key": ["t0", "k0"],
            "seed": [0, 0],
            "extra.init": [init, init],
            "extra.parity_probe.logits": [json.dumps([[0.0, 1.0]]), json.dumps(other_logits)],
            "extra.parity_probe.note": [note, note],
            "extra.order_fingerprint": ["abc", other_order],
            "extra.data_fingerprint": ["f", "f"],
        }
    )


REFERENCE = pd.Series({"keys": ["t0"]})
OTHER = pd.Series({"keys": ["k0"]})


def test_parity_is_the_max_logit_difference_with_shared_init() -> None:
    assert parity_note(REFERENCE, OTHER, _runs("shared", [[0.0, 1.00002]])) == "max |Δ logit| 2.0e-05"


@pytest.mark.parametrize(
    ("runs", "expected"),
    [
        (_runs("framework", [[0.0, 1.0]]), "not comparable: initial weights differ (init = framework)"),
        (_runs("shared", [[0.0, 1.0]], note="asymmetric padding"), "not comparable: asymmetric padding"),
    ],
)
def test_parity_says_why_not_comparable(runs: pd.DataFrame, expected: str) -> None:
    assert parity_note(REFERENCE, OTHER, runs) == expected


def test_data_note_reports_batches_and_starts() -> None:
    shared = data_note(REFERENCE, OTHER, _runs("shared", [[0.0, 1.0]]))
    assert shared == "same data fingerprint; same batch order; shared initial weights"
    differing = data_note(REFERENCE, OTHER, _runs("framework", [[0.0, 1.0]], other_order="xyz"))
    assert "batch orders differ" in differing and "different initial weights" in differing


def test_data_note_compares_augmented_batches() -> None:
    runs = _runs("shared", [[0.0, 1.0]]).assign(**{"extra.batch_fingerprints": ['["a1", "b2"]', '["a1", "b2"]']})
    assert "same augmented batches" in data_note(REFERENCE, OTHER, runs)
    runs["extra.batch_fingerprints"] = ['["a1", "b2"]', '["a1", "zz"]']
    assert "augmented batches differ" in data_note(REFERENCE, OTHER, runs)
