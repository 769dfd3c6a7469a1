"""The training plan as readable lines (``suite validate --plan``)."""

from __future__ import annotations

from typing import Any


def _rates(rates: dict[str, float], head: str) -> str:
    values = sorted(set(rates.values()))
    if len(values) == 1:
        return f"{values[0]:.3g}"
    return f"head {rates[head]:.3g}, min {values[0]:.3g}, max {values[-1]:.3g}"


def _describe_epoch(epoch: dict[str, Any], groups: list[str], head: str) -> str:
    trainable = epoch["trainable"]
    shown = "all" if len(trainable) == len(groups) else ", ".join(trainable)
    params = "?" if epoch["trainable_params"] is None else f"{epoch['trainable_params']:,}"
    unfreezes = f"; unfreezes {', '.join(epoch['unfreezes'])}" if epoch["unfreezes"] else ""
    return f"(phase {epoch['phase']}): trains {shown} ({params} params); lr {_rates(epoch['rates'], head)}{unfreezes}"


def plan_lines(plan: dict[str, Any]) -> list[str]:
    """One line per epoch (phase, trainable groups and params, LRs) and the plan-wide settings."""
    groups, head = plan["groups"], plan["groups"][-1]
    lines = [f"  groups ({len(groups)}): {', '.join(groups)}"]
    described = [(epoch["epoch"], _describe_epoch(epoch, groups, head)) for epoch in plan["epochs"]]
    start = 0
    for index, (number, text) in enumerate(described):
        last = index + 1 == len(described) or described[index + 1][1] != text
        if last:
            first = described[start][0]
            label = f"epoch {first}" if first == number else f"epochs {first}-{number}"
            lines.append(f"  {label} {text}")
            start = index + 1
    cache = plan["feature_cache"]
    lines.append(f"  feature cache: {'on' if cache['active'] else 'off'} ({cache['reason']})")
    lines.append(f"  init: {plan['init']}; batch order: from the suite (seed {plan['batch_order']['seed']})")
    lines += _settings_lines(plan)
    lines += _peft_lines(plan.get("peft"))
    lines += [f"  note: {note}" for note in plan["notes"]]
    return lines


def _settings_lines(plan: dict[str, Any]) -> list[str]:
    """Optimizer and loss, BatchNorm policy, and where and how the runner computes."""
    optimizer, batchnorm, execution = plan["optimizer"], plan["batchnorm"], plan["execution"]
    if optimizer["name"] == "sgd":
        details = f"momentum {optimizer['momentum']:g}{' (nesterov)' if optimizer['nesterov'] else ''}"
    else:
        details = f"epsilon {optimizer['epsilon']:g}, betas {tuple(optimizer['betas'])}"
    clip = f"; grad clip {optimizer['grad_clip']:g}" if optimizer["grad_clip"] is not None else ""
    loss = "cross-entropy on class probabilities" if plan["loss"]["soft_labels"] else "cross-entropy"
    mode = "inference mode" if batchnorm["mode"] == "frozen" else "training"
    engine = f"/{execution['engine']}" if execution["engine"] else ""
    return [
        f"  optimizer: {optimizer['name']} ({details}, weight decay {optimizer['weight_decay']:g}{clip}); loss: {loss}",
        f"  BatchNorm of frozen groups: {mode} (momentum {batchnorm['momentum']:g}, epsilon {batchnorm['epsilon']:g})",
        f"  runs on {execution['backend']}{engine}: device {execution['device']}, precision {execution['precision']}, "
        f"channels_last {execution['channels_last']}, compile {execution['compile']}, "
        f"deterministic {execution['deterministic']}",
    ]


def _peft_lines(peft: dict[str, Any] | None) -> list[str]:
    """The PEFT entry: what trains inside the frozen groups, and the LoRA convention."""
    if not peft:
        return []
    lines = []
    if peft["train_only"]:
        lines.append(f"  train only {' + '.join(peft['train_only'])} in: {', '.join(peft['train_only_groups'])}")
    lora = peft["lora"]
    if lora:
        lines.append(
            f"  LoRA r={lora['rank']}, alpha={lora['alpha']:g} (scaling {lora['scaling']:g}) on "
            f"{' + '.join(lora['kinds'])} of {', '.join(lora['groups'])}; "
            f"A {lora['init']['a']}, B {lora['init']['b']}; "
            f"depthwise convolutions {lora['depthwise']}; merged for the test pass"
        )
    return lines
