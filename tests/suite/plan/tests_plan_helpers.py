"""Builders shared by the plan tests: a four-group model description and a spec."""

from suite.runners.protocol import GroupFacts, ModelDescription, ParamCounts
from suite.spec.models import ExperimentSpec

GROUPS = [
    GroupFacts("stem", 100, has_batchnorm=True),
    GroupFacts("layer1", 200, has_batchnorm=True),
    GroupFacts("layer2", 300, has_dropout=True),
    GroupFacts("head", 10),
]


def model_description(sequential: bool = True) -> ModelDescription:
    counts = ParamCounts(610, 610, 0, 0, {g.name: {"total": g.params, "trainable": g.params} for g in GROUPS})
    return ModelDescription(counts, GROUPS, sequential=sequential)


def make_spec(**sections) -> ExperimentSpec:
    base = {
        "name": "t",
        "backend": "torch",
        "dataset": {"source": "digits"},
        "model": {"name": "mlp"},
        "training": {"epochs": 4},
    }
    for key, value in sections.items():
        base[key] = {**base.get(key, {}), **value}
    return ExperimentSpec.model_validate(base)
