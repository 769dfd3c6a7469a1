"""A weights file that is not a readable state dict is one line naming the file, not the framework's screenful."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from torch_impl.models.weights import load_local_state_dict


class _Payload:
    def __reduce__(self) -> tuple:
        return (print, ("hostile code ran",))


@pytest.mark.parametrize(
    ("content", "kind"),
    [(b"garbage bytes", "UnpicklingError"), (b"", "EOFError"), (pickle.dumps(_Payload()), "UnpicklingError")],
)
def test_an_unreadable_weights_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture, content: bytes, kind: str
) -> None:
    path = tmp_path / "w.pt"
    path.write_bytes(content)
    with pytest.raises(ValueError) as caught:
        load_local_state_dict(path)
    message = str(caught.value)
    assert message.startswith(f"model.weights: {path} is not a readable PyTorch weights file: {kind}")
    assert "\n" not in message and "hostile code ran" not in capsys.readouterr().out
