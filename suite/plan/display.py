"""The training plan as readable lines (``suite validate --plan``)."""

from __future__ import annotations

from typing import Any


def _rates(rates: dict[str, float], head: str) -> str:
    values = sorted(set(rates.values()))
    if len(values) == 1:
        return f"{values[0]:.3g}"
    return f"head {rates[head]:.3g}, min {values[0]:.3g}, max {values[-1]:.3g}"


def _describe_segment(segment: dict[str, Any], groups: list[str], head: str, schedule: str) -> str:
    trainable = segment["trainable"]
    shown = "all" if len(trainable) == len(groups) else ", ".join(trainable)
    params = "?" if segment["trainable_params"] is None else f"{segment['trainable_params']:,}"
    unfreezes = f"; unfreezes {', '.join(segment['unfreezes'])}" if segment["unfreezes"] else ""
    rates = _rates(segment["base_rates"], head)
    schedule = f", {schedule}" if schedule else ""
    return f"(phase {segment['phase']}): trains {shown} ({params} params); lr {rates}{schedule}{unfreezes}"


def plan_lines(plan: dict[str, Any]) -> list[str]:
    """One line per stretch of epochs (phase, trainable groups and params, LRs) and the plan-wide settings."""
    groups, head = plan["groups"], plan["groups"][-1]
    lines = [f"  groups ({len(groups)}): {', '.join(groups)}"]
    schedule = _schedule(plan["epochs"]["schedule"])
    for segment in plan["epochs"]["segments"]:
        first, last = segment["first_epoch"], segment["first_epoch"] + segment["epochs"] - 1
        label = f"epoch {first}" if first == last else f"epochs {first}-{last}"
        lines.append(f"  {label} {_describe_segment(segment, groups, head, schedule)}")
    cache = plan["feature_cache"]
    lines.append(f"  feature cache: {'on' if cache['active'] else 'off'} ({cache['reason']})")
    lines.append(f"  init: {plan['init']}; batch order: from the suite (seed {plan['batch_order']['seed']})")
    lines += _settings_lines(plan)
    lines += _peft_lines(plan.get("peft"))
    lines += [f"  note: {note}" for note in plan["notes"]]
    return lines


def _schedule(schedule: dict[str, Any]) -> str:
    """``cosine to eta_min 0 after 2 warm-up epochs from 0.1x`` and the like; empty for a constant LR."""
    kinds = {
        "cosine": f"cosine to eta_min {schedule['eta_min']:g}",
        "step": f"x{schedule['gamma']:g} every {schedule['step_size']} epochs",
        "plateau": "reduced on plateau",
        "none": "",
    }
    warmup = schedule["warmup_epochs"]
    start = schedule["warmup_start_factor"]
    after = f"after {warmup} warm-up epochs from {start:g}x" if warmup else ""
    return " ".join(part for part in (kinds[schedule["name"]], after) if part)


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
