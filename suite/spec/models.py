"""Validated experiment spec: the data model every runner receives.

Construction has no side effects; every model serialises back to plain data
(``model_dump``) and from there to TOML/YAML. Unknown keys are rejected.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

KerasBackend = Literal["tensorflow", "jax", "torch"]
Source = Literal["digits", "mnist", "cifar10", "folder", "hf"]
Normalization = Literal["none", "unit", "half", "imagenet"]
PositiveFloat = Annotated[float, Field(gt=0)]


class StrictModel(BaseModel):
    """Base for every spec section: unknown keys are errors, values are checked on assignment."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)


class SubsetSpec(StrictModel):
    """Optional caps on the number of samples per split (taken after the deterministic split)."""

    train: int | None = Field(None, ge=1)
    val: int | None = Field(None, ge=1)
    test: int | None = Field(None, ge=1)


class SplitSpec(StrictModel):
    """Fractions carved out when a source does not publish that split."""

    val: float = Field(0.2, ge=0, lt=1)
    test: float = Field(0.2, ge=0, lt=1)

    @model_validator(mode="after")
    def _fractions_leave_training_data(self) -> SplitSpec:
        if self.val + self.test >= 1:
            raise ValueError(f"val + test must be < 1, got {self.val + self.test:g}")
        return self


class DatasetSpec(StrictModel):
    """Where the images come from and how both runners preprocess them."""

    source: Source
    name: str | None = None
    id: str | None = None
    path: str | None = None
    image_size: int | None = Field(None, ge=1)
    channels: Literal[1, 3] | None = None
    normalization: Normalization = "unit"
    image_key: str | None = None
    label_key: str | None = None
    subset: SubsetSpec | None = None
    split: SplitSpec = SplitSpec()

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
    head_hidden: list[Annotated[int, Field(ge=1)]] = []
    head_dropout: list[Annotated[float, Field(ge=0, lt=1)]] = []
    dropout: float | None = Field(None, ge=0, lt=1)
    depth: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _dropout_per_hidden_layer(self) -> ModelSpec:
        if self.head_dropout and len(self.head_dropout) != len(self.head_hidden):
            raise ValueError(
                f"head_dropout needs one rate per head_hidden layer ({len(self.head_hidden)}), "
                f"got {len(self.head_dropout)}"
            )
        return self


class DiscriminativeLRSpec(StrictModel):
    """Head trains at optimizer.lr; each earlier group gets lr * lr_mult**distance."""

    lr_mult: float = Field(gt=0, le=1)


class FinetuneSpec(StrictModel):
    """Second phase of a two-phase recipe: unfreeze, lower the LR, train again."""

    epochs: int = Field(ge=1)
    lr: PositiveFloat
    unfreeze: Literal["all"] | list[str] | None = None
    unfreeze_last_layers: int | None = Field(None, ge=1)

    @model_validator(mode="after")
    def _says_what_to_unfreeze(self) -> FinetuneSpec:
        if (self.unfreeze is None) == (self.unfreeze_last_layers is None):
            raise ValueError("give exactly one of unfreeze or unfreeze_last_layers")
        return self


class StrategySpec(StrictModel):
    """Which parameters train, when, and at what learning rate."""

    freeze: Literal["none", "all_but_head"] | list[str] = "none"
    freeze_blocks: int | None = Field(None, ge=0)
    bn_mode: Literal["frozen", "train"] = "frozen"
    discriminative_lr: DiscriminativeLRSpec | None = None
    unfreeze_schedule: dict[int, list[str]] | None = None
    finetune: FinetuneSpec | None = None

    @model_validator(mode="after")
    def _one_way_to_freeze(self) -> StrategySpec:
        if self.freeze_blocks is not None and self.freeze != "none":
            raise ValueError("give freeze or freeze_blocks, not both")
        return self

    @field_validator("unfreeze_schedule")
    @classmethod
    def _schedule_epochs_non_negative(cls, value: dict[int, list[str]] | None) -> dict[int, list[str]] | None:
        if value is not None and any(epoch < 0 for epoch in value):
            raise ValueError("unfreeze_schedule epochs must be >= 0")
        return value


class OptimizerSpec(StrictModel):
    """Optimizer family and its hyper-parameters."""

    name: Literal["adam", "adamw", "sgd"] = "adam"
    lr: PositiveFloat = 1e-3
    weight_decay: float = Field(0.0, ge=0)
    momentum: float = Field(0.0, ge=0, lt=1)
    nesterov: bool = False

    @model_validator(mode="after")
    def _nesterov_needs_momentum(self) -> OptimizerSpec:
        if self.nesterov and (self.name != "sgd" or self.momentum == 0):
            raise ValueError("nesterov needs name = 'sgd' and momentum > 0")
        return self


class SchedulerSpec(StrictModel):
    """Learning-rate schedule, stepped once per epoch."""

    name: Literal["none", "cosine", "plateau", "step"] = "none"
    warmup_epochs: int = Field(0, ge=0)
    warmup_start_factor: float = Field(0.1, gt=0, le=1)
    eta_min: float = Field(0.0, ge=0)
    factor: float = Field(0.1, gt=0, lt=1)
    patience: int = Field(10, ge=0)
    monitor: Literal["val_loss", "val_accuracy"] = "val_loss"
    step_size: int = Field(10, ge=1)
    gamma: float = Field(0.1, gt=0, le=1)


class EarlyStoppingSpec(StrictModel):
    """Stop when the monitored metric stops improving; optionally restore the best weights."""

    monitor: Literal["val_loss", "val_accuracy"] = "val_loss"
    patience: int = Field(ge=0)
    min_delta: float = Field(0.0, ge=0)
    restore_best: bool = True


class TrainingSpec(StrictModel):
    """Loop settings shared by every runner."""

    epochs: int = Field(ge=1)
    batch_size: int = Field(32, ge=1)
    eval_batch_size: int | None = Field(None, ge=1)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "fp32"
    deterministic: bool = False
    scheduler: SchedulerSpec = SchedulerSpec()
    early_stopping: EarlyStoppingSpec | None = None
    checkpoint: bool = False
    grad_clip: float | None = Field(None, gt=0)
    tensorboard: bool = False
    log_every_n_steps: int = Field(50, ge=1)
    num_workers: int = Field(0, ge=0)
    channels_last: Literal["auto"] | bool = "auto"
    compile: bool = False
    feature_cache: Literal["auto"] | bool = "auto"


class ExperimentSpec(StrictModel):
    """One fully resolved run: what a runner receives."""

    name: str = Field(min_length=1)
    backend: str
    keras_backend: KerasBackend | None = None
    seed: int = Field(0, ge=0)
    dataset: DatasetSpec
    model: ModelSpec
    strategy: StrategySpec = StrategySpec()
    optimizer: OptimizerSpec = OptimizerSpec()
    training: TrainingSpec

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
    def _keras_backend_only_for_keras(self) -> ExperimentSpec:
        if self.keras_backend is not None and self.backend != "keras":
            raise ValueError("keras_backend is only valid with backend = 'keras'")
        return self


class StudyHeader(StrictModel):
    """The ``[study]`` table: name and repeat seeds."""

    name: str | None = None
    seeds: list[Annotated[int, Field(ge=0)]] = Field(default_factory=lambda: [0], min_length=1)
    description: str | None = None
