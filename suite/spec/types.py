"""The spec's value types: strict numbers and the strict base model every spec section derives from.

Imported by :mod:`suite.spec.models` and by the strategy declarations (:mod:`suite.strategies`), which the spec
models are built from.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict
from pydantic_core import PydanticCustomError

SEED_MAX = 2**32 - 1
"""Largest seed: numpy's ``default_rng``/``RandomState`` and the frameworks' seeding take 32-bit seeds."""
Precision = Literal["auto", "fp32", "bf16", "fp16", "fp64"]
"""``training.precision``: fp32; bf16/fp16 mixed precision (``auto``: bf16 where the hardware has it natively);
fp64 computes in float64 throughout (a CPU check of numerics: ``suite parity``'s one-step comparison uses it)."""
FIRST_EPOCH = 1
"""Epochs are numbered from 1 wherever a user reads or writes them: the spec (``strategy.unfreeze_schedule``),
the console, ``history.csv``, ``plan.json``, ``suite validate --plan``, ``result.json`` (``best_epoch``,
``last_epoch``, ``*_at_epoch``, ``resumed_from_epoch``), TensorBoard, MLflow and the report. Inside a process
(the plan's objects, the loop, ``RunOutput``) an epoch is an index from 0, turned into its number at the edge."""
MAX_EPOCHS = 10_000
"""Most epochs of one phase (``training.epochs``, ``strategy.finetune.epochs``) and most epochs any epoch count
(patience, warm-up, step size, unfreeze schedule) may name: the plan holds one entry per epoch."""
MAX_BATCH = 1_048_576
"""Largest batch size (training and evaluation) and ``training.log_every_n_steps``: 2**20."""
MAX_LOADER_WORKERS = 256
"""Most data-loader processes (``training.num_workers``)."""
MAX_SAMPLES = 2**31 - 1
"""Largest sample count (``dataset.subset``)."""
MAX_IMAGE_SIZE = 4096
"""Largest ``dataset.image_size`` in pixels."""
MAX_WIDTH = 1_048_576
"""Largest layer width or rank (``model.head_hidden``, LoRA rank)."""
MAX_LIST = 64
"""Most items of a per-layer list (``model.head_hidden``, ``model.head_dropout``)."""
MAX_SEEDS = 1_000
"""Most seeds a study repeats each run with."""
MAX_RUNS = 5_000
"""Most runs a study may expand to unless its ``[study] max_runs`` raises the bound."""
MAX_RUNS_CEILING = 1_000_000
"""The largest ``[study] max_runs`` accepted."""
MAX_NAME = 100
"""Longest study or experiment name (characters); a study name becomes a directory name."""


def _not_a_bool(kind: str, message: str, context: dict[str, Any] | None = None) -> BeforeValidator:
    """A before-validator rejecting ``True``/``False`` where a number is expected (pydantic reads True as 1)."""

    def check(value: Any) -> Any:
        if isinstance(value, bool):
            raise PydanticCustomError(kind, message, context)
        return value

    return BeforeValidator(check)


def _a_number(kind: str, message: str) -> BeforeValidator:
    """A before-validator taking numbers only: ``"15"`` and ``True`` are refused (pydantic would read them as 15, 1)."""

    def check(value: Any) -> Any:
        if isinstance(value, (bool, str, bytes)):
            raise PydanticCustomError(kind, message)
        return value

    return BeforeValidator(check)


Int = Annotated[int, _a_number("int_type", "Input should be a valid integer")]
"""An integer: booleans and strings are refused; ints and integral floats (2.0) are taken, other floats refused."""
Float = Annotated[float, _a_number("float_type", "Input should be a valid number")]
"""A finite number (the config refuses inf/nan); ints are taken, booleans and strings refused."""
KeyInt = Annotated[int, _not_a_bool("int_type", "Input should be a valid integer")]
"""An integer used as a table key: TOML keys are strings, so ``"3"`` is taken as 3 there (and only there)."""
Bool = Annotated[bool, Strict()]
"""``true`` or ``false`` only (not 0/1 or "yes")."""
Seed = Annotated[Int, Field(ge=0, le=SEED_MAX)]
Epochs = Annotated[Int, Field(ge=1, le=MAX_EPOCHS)]
"""A positive epoch count of at most :data:`MAX_EPOCHS`."""
EpochCount = Annotated[Int, Field(ge=0, le=MAX_EPOCHS)]
"""A non-negative epoch count (patience, warm-up) of at most :data:`MAX_EPOCHS`."""
Channels = Annotated[Literal[1, 3], _not_a_bool("literal_error", "Input should be {expected}", {"expected": "1 or 3"})]
Source = Literal["digits", "mnist", "cifar10", "folder", "hf"]
Normalization = Literal["none", "unit", "half", "imagenet"]
PositiveFloat = Annotated[Float, Field(gt=0)]


class StrictModel(BaseModel):
    """Base for every spec section: unknown keys are errors, numbers are finite, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False, allow_inf_nan=False)
