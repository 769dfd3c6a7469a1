"""What a backend supports, declared once by the backend and read by the core and ``suite list``.

A backend package builds one :class:`RunnerCapabilities` in its ``__init__`` (no framework import), passes it
to :func:`~suite.runners.registry.register_runner` and sets it as its runner's ``capabilities``. The core never
probes a runner or a session for optional methods: it reads this declaration (resume state, feature cache,
soft labels, PEFT methods) and refuses, before training, a spec that asks for what the backend does not declare.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from suite.spec.models import ExperimentSpec

CAPABILITY_COLUMNS = ("resume", "feature cache", "soft labels", "PEFT", "engines", "devices", "precisions", "models")


@dataclass(frozen=True)
class RunnerCapabilities:
    """A backend's optional abilities and the settings it runs.

    ``resume_state``: sessions implement ``save_state`` / ``load_state`` (a run continues after a crash).
    ``feature_cache``: sessions implement ``prefix_features`` / ``use_prefix_cache``.
    ``soft_labels``: ``train_step`` takes (N, C) class probabilities (mixup / CutMix).
    ``peft``: the parameter-efficient methods it runs (``bias``, ``norm``: BitFit / norm-only; ``lora``: the
    session also implements ``prepare_for_inference``, merging the adapters before the test pass).
    ``engines``: engine name -> the modules it needs (empty: no engines), ``default_engine`` the one used
    when a spec names none. ``devices``, ``precisions``: the ``training.device`` / ``training.precision``
    values it accepts (whether this machine has the device is the runner's ``check``).
    ``models``: one line on the models it builds (``suite list --models`` asks the runner for every name).
    """

    resume_state: bool = False
    feature_cache: bool = False
    soft_labels: bool = False
    peft: tuple[str, ...] = ()
    engines: dict[str, tuple[str, ...]] = field(default_factory=dict)
    default_engine: str | None = None
    devices: tuple[str, ...] = ("auto", "cpu")
    precisions: tuple[str, ...] = ("fp32",)
    models: str = ""

    def problems(self, spec: ExperimentSpec) -> list[str]:
        """What ``spec`` asks of the backend that it does not declare, one line naming the spec key each."""
        label, training, strategy = spec.backend_label, spec.training, spec.strategy
        wanted = [
            ("training.device", training.device, self.devices),
            ("training.precision", training.precision, self.precisions),
        ]
        problems = [f"{key} = {value!r}: {label} runs {', '.join(allowed)}" for key, value, allowed in wanted
                    if value not in allowed]  # fmt: skip
        methods = [*(strategy.train_only or []), *(["lora"] if strategy.lora is not None else [])]
        missing = [method for method in methods if method not in self.peft]
        if missing:
            key = "strategy.lora" if missing == ["lora"] else "strategy.train_only"
            problems.append(f"{key}: {label} has no {', '.join(missing)} PEFT ({_listed(self.peft)})")
        if training.feature_cache is True and not self.feature_cache:
            problems.append(f"training.feature_cache = true: {label} has no feature cache")
        augment = spec.dataset.augment
        if augment is not None and augment.soft_labels and not self.soft_labels:
            problems.append(f"dataset.augment: mixup/cutmix train on class probabilities, which {label} does not take")
        return problems

    def row(self) -> list[str]:
        """One readable cell per :data:`CAPABILITY_COLUMNS` entry (``suite list``)."""
        engines = ", ".join(f"{name}{' (default)' if name == self.default_engine else ''}" for name in self.engines)
        return [
            _yes(self.resume_state),
            _yes(self.feature_cache),
            _yes(self.soft_labels),
            _listed(self.peft),
            engines or "none",
            ", ".join(self.devices),
            ", ".join(self.precisions),
            self.models,
        ]


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _listed(names: tuple[str, ...]) -> str:
    return ", ".join(names) if names else "none"
