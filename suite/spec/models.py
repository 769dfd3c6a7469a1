"""Validated experiment spec: the data model every runner receives.

Construction has no side effects; every model serialises back to plain data
(``model_dump``) and from there to TOML/YAML. Unknown keys are rejected.
"""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from suite.architectures.catalog import architecture, grayscale_names, shared_names, takes_stochastic_depth
from suite.spec.types import (  # noqa: F401 - SEED_MAX and the value types are part of this module's API
    MAX_BATCH,
    MAX_EPOCHS,
    MAX_IMAGE_SIZE,
    MAX_LIST,
    MAX_LOADER_WORKERS,
    MAX_NAME,
    MAX_RUNS,
    MAX_RUNS_CEILING,
    MAX_SAMPLES,
    MAX_SEEDS,
    MAX_WIDTH,
    SEED_MAX,
    Bool,
    Channels,
    EpochCount,
    Epochs,
    Float,
    Int,
    Normalization,
    PositiveFloat,
    Precision,
    Seed,
    Source,
    StrictModel,
)
from suite.strategies.spec_model import build_strategy_spec
from suite.tuning.space import TuneSpec

SHARED_ARCHITECTURES = shared_names()
"""Models built layer for layer alike in every backend (:mod:`suite.architectures.catalog`): shared initial
weights and ``suite parity`` apply."""
GRAYSCALE_MODELS = grayscale_names()
"""Models that take 1-channel input; every other model takes 3-channel images."""


class SubsetSpec(StrictModel):
    """Optional caps on the number of samples per split (taken after the deterministic split)."""

    train: Int | None = Field(None, ge=1, le=MAX_SAMPLES)
    val: Int | None = Field(None, ge=1, le=MAX_SAMPLES)
    test: Int | None = Field(None, ge=1, le=MAX_SAMPLES)


class SplitSpec(StrictModel):
    """Fractions carved out when a source does not publish that split."""

    val: Float = Field(0.2, ge=0, lt=1)
    test: Float = Field(0.2, ge=0, lt=1)

    @model_validator(mode="after")
    def _fractions_leave_training_data(self) -> SplitSpec:
        if self.val + self.test >= 1:
            raise ValueError(f"val + test must be < 1, got {self.val + self.test:g}")
        return self


class CropSpec(StrictModel):
    """Pad every side by ``padding`` pixels (zeros), then cut a random window of the original size."""

    padding: Int = Field(ge=1, le=MAX_IMAGE_SIZE)


class ResizedCropSpec(StrictModel):
    """A random box of ``scale`` x the area and aspect ``ratio``, resized back to the image size."""

    scale: tuple[Float, Float] = (0.08, 1.0)
    ratio: tuple[Float, Float] = (0.75, 4 / 3)

    @model_validator(mode="after")
    def _ranges(self) -> ResizedCropSpec:
        low, high = self.scale
        if not 0 < low <= high <= 1:
            raise ValueError(f"scale must satisfy 0 < low <= high <= 1, got {list(self.scale)}")
        if not 0 < self.ratio[0] <= self.ratio[1]:
            raise ValueError(f"ratio must satisfy 0 < low <= high, got {list(self.ratio)}")
        return self


class ColorJitterSpec(StrictModel):
    """Factors drawn uniformly from ``[1 - x, 1 + x]`` for brightness, contrast and saturation."""

    brightness: Float = Field(0.0, ge=0, le=1)
    contrast: Float = Field(0.0, ge=0, le=1)
    saturation: Float = Field(0.0, ge=0, le=1)


class AugmentSpec(StrictModel):
    """Training-set augmentation, applied by the core to uint8 images (see :mod:`suite.augment`).

    Every field is optional. ``rotation`` is in degrees (uniform in ``[-r, r]``), ``translate`` a fraction of
    the width and height; ``mixup`` and ``cutmix`` are Beta(alpha, alpha) parameters and make soft labels.
    """

    flip: Literal["horizontal", "vertical", "both"] | None = None
    crop: CropSpec | None = None
    random_resized_crop: ResizedCropSpec | None = None
    rotation: Float | None = Field(None, gt=0, le=180)
    translate: Float | None = Field(None, gt=0, lt=1)
    color_jitter: ColorJitterSpec | None = None
    mixup: Float | None = Field(None, gt=0)
    cutmix: Float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _one_crop(self) -> AugmentSpec:
        if self.crop is not None and self.random_resized_crop is not None:
            raise ValueError("give crop or random_resized_crop, not both")
        return self

    @property
    def active(self) -> bool:
        """True when at least one augmentation is set."""
        return any(value is not None for value in self.__dict__.values())

    @property
    def soft_labels(self) -> bool:
        """True when mixup or cutmix turn labels into class probabilities."""
        return self.mixup is not None or self.cutmix is not None


class DatasetSpec(StrictModel):
    """Where the images come from and how both runners preprocess them."""

    source: Source
    name: str | None = None
    id: str | None = None
    path: str | None = None
    image_size: Int | None = Field(None, ge=1, le=MAX_IMAGE_SIZE)
    channels: Channels | None = None
    normalization: Normalization = "unit"
    image_key: str | None = None
    label_key: str | None = None
    subset: SubsetSpec | None = None
    split: SplitSpec = SplitSpec()
    augment: AugmentSpec | None = None

    @model_validator(mode="after")
    def _source_requirements(self) -> DatasetSpec:
        if self.source == "hf" and not (self.id or self.path):
            raise ValueError("source 'hf' needs id (a Hugging Face dataset id) or path (a saved copy)")
        if self.source == "folder" and not self.path:
            raise ValueError("source 'folder' needs path (an ImageFolder directory)")
        return self

    @property
    def display_name(self) -> str:
        """Human name: explicit name, else the HF id (for the hf source), else the source."""
        return self.name or (self.id if self.source == "hf" and self.id else self.source)


class ModelSpec(StrictModel):
    """Architecture, starting weights and classifier head. Classes come from the data."""

    name: str = Field(min_length=1)
    weights: str = "none"
    head: Literal["default", "flatten", "gap"] = "default"
    head_hidden: list[Annotated[Int, Field(ge=1, le=MAX_WIDTH)]] = Field([], max_length=MAX_LIST)
    head_dropout: list[Annotated[Float, Field(ge=0, lt=1)]] = Field([], max_length=MAX_LIST)
    dropout: Float | None = Field(None, ge=0, lt=1)
    """The mlp's dropout, or the stochastic-depth rate of a catalog entry that has one (``drop_connect_rate`` in its
    options: keras.applications' EfficientNet, 0.2 by default, scaled per block as Keras does)."""
    depth: Int | None = Field(None, ge=1, le=MAX_WIDTH)
    init: Literal["framework", "shared"] = "framework"
    """``shared``: every backend starts from the same seed-drawn weights; with ``weights`` (catalog architectures
    that convert weights) the file loads over the draw, and what it lacks (a head of another size) keeps the draw."""
    bn_momentum: Float = Field(0.1, gt=0, lt=1)
    bn_epsilon: Float = Field(1e-5, gt=0)
    """BatchNorm momentum (torch's convention) and epsilon of every BatchNorm layer; a keras-layout catalog entry
    defaults to its network's own (keras.applications' ResNet: 0.01 and 1.001e-5), the others to torch's."""

    @model_validator(mode="before")
    @classmethod
    def _the_networks_own_batchnorm(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            arch = architecture(data["name"])
            if arch is not None and arch.batchnorm is not None:
                momentum, epsilon = arch.batchnorm
                return {"bn_momentum": momentum, "bn_epsilon": epsilon, **data}
        return data

    @model_validator(mode="after")
    def _dropout_per_hidden_layer(self) -> ModelSpec:
        if self.head_dropout and len(self.head_dropout) != len(self.head_hidden):
            raise ValueError(
                f"head_dropout needs one rate per head_hidden layer ({len(self.head_hidden)}), "
                f"got {len(self.head_dropout)}"
            )
        return self

    @model_validator(mode="after")
    def _dropout_is_the_mlps(self) -> ModelSpec:
        if self.dropout is not None and self.name != "mlp" and not takes_stochastic_depth(self.name):
            raise ValueError(
                "dropout sets the mlp's dropout or an EfficientNet's stochastic depth (keras_efficientnet_*); "
                "for other models use head_hidden + head_dropout"
            )
        return self

    @model_validator(mode="after")
    def _shared_init_needs_random_weights(self) -> ModelSpec:
        if self.init == "shared":
            if self.name not in SHARED_ARCHITECTURES:
                raise ValueError(
                    f"init = 'shared' needs an architecture that exists in every backend "
                    f"({', '.join(SHARED_ARCHITECTURES)}), got {self.name!r}"
                )
            if self.weights != "none" and not architecture(self.name).converts_weights:
                raise ValueError(
                    f"init = 'shared' draws the initial weights of {self.name}; it needs weights = 'none' "
                    "(only the catalog's converted architectures load weights over the draw)"
                )
        return self


StrategySpec = build_strategy_spec()
"""The ``[strategy]`` section: one key per declared strategy (:mod:`suite.strategies`)."""


class OptimizerSpec(StrictModel):
    """Optimizer family and its hyper-parameters."""

    name: Literal["adam", "adamw", "sgd"] = "adam"
    lr: PositiveFloat = 1e-3
    weight_decay: Float = Field(0.0, ge=0)
    momentum: Float = Field(0.0, ge=0, lt=1)
    nesterov: Bool = False
    epsilon: Float = Field(1e-8, gt=0)

    @model_validator(mode="after")
    def _nesterov_needs_momentum(self) -> OptimizerSpec:
        if self.nesterov and (self.name != "sgd" or self.momentum == 0):
            raise ValueError("nesterov needs name = 'sgd' and momentum > 0")
        return self

    @model_validator(mode="after")
    def _momentum_is_sgds(self) -> OptimizerSpec:
        if self.momentum and self.name != "sgd":
            raise ValueError(f"momentum applies to sgd only, not {self.name}")
        return self


class SchedulerSpec(StrictModel):
    """Learning-rate schedule, stepped once per epoch."""

    name: Literal["none", "cosine", "plateau", "step"] = "none"
    warmup_epochs: EpochCount = 0
    warmup_start_factor: Float = Field(0.1, gt=0, le=1)
    eta_min: Float = Field(0.0, ge=0)
    factor: Float = Field(0.1, gt=0, lt=1)
    patience: EpochCount = 10
    monitor: Literal["val_loss", "val_accuracy"] = "val_loss"
    step_size: Epochs = 10
    gamma: Float = Field(0.1, gt=0, le=1)

    @model_validator(mode="after")
    def _fields_the_schedule_uses(self) -> SchedulerSpec:
        if self.name == "plateau" and self.warmup_epochs:
            raise ValueError("scheduler 'plateau' cannot be combined with warmup_epochs")
        # Non-default values only: a resolved spec read back from spec.toml sets every field explicitly.
        unused = sorted(
            name
            for name, field in type(self).model_fields.items()
            if name not in _SCHEDULER_FIELDS[self.name] and getattr(self, name) != field.default
        )
        if unused:
            raise ValueError(f"scheduler {self.name!r} does not use {', '.join(unused)}")
        return self


_WARMUP_FIELDS = {"name", "warmup_epochs", "warmup_start_factor"}
_SCHEDULER_FIELDS = {
    "none": _WARMUP_FIELDS,
    "cosine": _WARMUP_FIELDS | {"eta_min"},
    "step": _WARMUP_FIELDS | {"step_size", "gamma"},
    "plateau": {"name", "factor", "patience", "monitor"},
}


class EarlyStoppingSpec(StrictModel):
    """Stop when the monitored metric stops improving; optionally restore the best weights."""

    monitor: Literal["val_loss", "val_accuracy"] = "val_loss"
    patience: EpochCount
    min_delta: Float = Field(0.0, ge=0)
    restore_best: Bool = True


class ResourcesSpec(StrictModel):
    """What one run needs from an executor slot (Ray task resources); None: derived from ``training.device``."""

    cpus: Float | None = Field(None, gt=0)
    gpus: Float | None = Field(None, ge=0)


class TrainingSpec(StrictModel):
    """Loop settings shared by every runner."""

    epochs: Epochs
    batch_size: Int = Field(32, ge=1, le=MAX_BATCH)
    eval_batch_size: Int | None = Field(None, ge=1, le=MAX_BATCH)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    precision: Precision = "fp32"
    deterministic: Bool = False
    scheduler: SchedulerSpec = SchedulerSpec()
    early_stopping: EarlyStoppingSpec | None = None
    checkpoint: Bool = False
    grad_clip: Float | None = Field(None, gt=0)
    tensorboard: Bool = False
    log_every_n_steps: Int = Field(50, ge=1, le=MAX_BATCH)
    num_workers: Int = Field(0, ge=0, le=MAX_LOADER_WORKERS)
    channels_last: Literal["auto"] | Bool = "auto"
    compile: Bool = False
    feature_cache: Literal["auto"] | Bool = "auto"
    time_limit: Float | None = Field(None, gt=0)
    """Wall-clock seconds the whole run may take (load, train, test); past it the run ends as ``timeout``."""
    resumable: Bool = True
    """Write a resume state after every epoch so a killed run continues from its next epoch."""
    resources: ResourcesSpec = ResourcesSpec()


class ExperimentSpec(StrictModel):
    """One fully resolved run: what a runner receives."""

    name: str = Field(min_length=1)
    backend: str
    engine: str | None = None
    seed: Seed = 0
    dataset: DatasetSpec
    model: ModelSpec
    strategy: StrategySpec = StrategySpec()
    optimizer: OptimizerSpec = OptimizerSpec()
    training: TrainingSpec

    @field_validator("name")
    @classmethod
    def _name_is_printable(cls, value: str) -> str:
        if not value.strip() or not value.isprintable():
            raise ValueError(name_problem(value) or "must be printable")
        return value

    @field_validator("backend")
    @classmethod
    def _backend_is_registered(cls, value: str) -> str:
        from suite.runners.registry import discover

        known = sorted(discover())
        if value not in known:
            quoted = [repr(name) for name in known]
            choices = " or ".join([", ".join(quoted[:-1]), quoted[-1]] if len(quoted) > 1 else quoted)
            raise ValueError(f"must be {choices}, got {value!r}")
        return value

    @model_validator(mode="after")
    def _engine_is_the_backends(self) -> ExperimentSpec:
        from suite.runners.registry import get_runner_entry

        engines = sorted(get_runner_entry(self.backend).engines)
        if self.engine is not None and self.engine not in engines:
            if not engines:
                raise ValueError(f"engine: backend {self.backend!r} has no engines, got {self.engine!r}")
            raise ValueError(f"engine: backend {self.backend!r} runs on {', '.join(engines)}, got {self.engine!r}")
        return self

    @model_validator(mode="after")
    def _grayscale_only_for_small_models(self) -> ExperimentSpec:
        if self.dataset.channels == 1 and self.model.name not in GRAYSCALE_MODELS:
            raise ValueError(f"{self.model.name} takes 3-channel images; set dataset.channels = 3")
        return self

    @property
    def backend_label(self) -> str:
        """``backend`` or ``backend/engine`` when the spec names an engine."""
        return f"{self.backend}/{self.engine}" if self.engine else self.backend


class TrackingSpec(StrictModel):
    """``[study] tracking``: also log every run to MLflow (``mlflow = "URI"``; ``true`` = ``OUT/mlflow.db``)."""

    mlflow: Bool | str | None = None

    @field_validator("mlflow")
    @classmethod
    def _uri_not_empty(cls, value: bool | str | None) -> bool | str | None:
        if isinstance(value, str) and not value.strip():
            raise ValueError("give a tracking URI, or true for the local store OUT/mlflow.db")
        return value

    @property
    def mlflow_uri(self) -> str | None:
        """The MLflow tracking URI, ``"local"`` for ``true``, None when off."""
        return "local" if self.mlflow is True else (self.mlflow or None)


class StudyHeader(StrictModel):
    """The ``[study]`` table: name, repeat seeds, optional tracking and optional tuning of every configuration."""

    name: str | None = None
    seeds: list[Seed] = Field(default_factory=lambda: [0], min_length=1, max_length=MAX_SEEDS)
    description: str | None = None
    tracking: TrackingSpec = TrackingSpec()
    tune: TuneSpec | None = None
    max_runs: Int = Field(MAX_RUNS, ge=1, le=MAX_RUNS_CEILING)
    """Most runs the study may expand to (counted before any run is built); raise it for a larger sweep."""

    @field_validator("name")
    @classmethod
    def _name_is_a_directory_name(cls, value: str | None) -> str | None:
        problem = None if value is None else study_name_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("seeds")
    @classmethod
    def _seeds_distinct(cls, value: list[int]) -> list[int]:
        repeated = sorted({seed for seed in value if value.count(seed) > 1})
        if repeated:
            raise ValueError(f"seed {repeated[0]} is given twice; each seed makes one run per experiment")
        return value


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name an experiment or a study, or None.

    A name is shown on terminals, in reports and in file names: printable characters only (no line breaks,
    escape sequences or direction overrides), not only whitespace, at most :data:`MAX_NAME` characters.
    """
    if not name.strip():
        return f"must not be empty or only whitespace, got {name!r}"
    if not name.isprintable():
        return f"must hold printable characters only (no line breaks, escapes or direction marks), got {name!r}"
    if len(name) > MAX_NAME:
        return f"must be at most {MAX_NAME} characters, got {len(name)}"
    return None


def study_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a study name, or None.

    Without ``--out`` the CLI writes to ``results/<study name>``, so the name must be one plain directory name:
    not empty, no path separator, not ``.``/``..`` or hidden, no control characters, at most :data:`MAX_NAME`
    characters (:func:`name_problem`).
    """
    if not name.strip():
        return f"must be a directory name, got {name!r}"
    problem = name_problem(name)
    if problem:
        return problem
    if "/" in name or "\\" in name:
        return f"must be a directory name, not a path (no '/' or '\\'), got {name!r}"
    if name.startswith("."):
        return f"must not start with '.' (results go to results/<study name>), got {name!r}"
    if any(unicodedata.category(char)[0] == "C" or unicodedata.category(char) in ("Zl", "Zp") for char in name):
        return f"must not hold control characters, got {name!r}"
    return None
