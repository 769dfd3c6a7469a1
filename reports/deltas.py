"""Write paired comparisons into a table: the Δ cell in words or bold, and the p-value columns."""

from __future__ import annotations

import pandas as pd

from reports import fmt
from reports.paired import Comparison

WITHIN_NOISE = "within noise"
P_MCNEMAR = "p (McNemar)"
P_PER_SEED = "p per seed"
P_T = "p (paired t)"
P_HOLM = "p (Holm)"
PAIRED_ON = "Paired on"
UNTESTED = "untested (no predictions stored)"
INTERVAL_NOTE = (
    "Δ intervals are 95%: on one common seed Newcombe's paired score interval (square-and-add of the two "
    "Wilson intervals, method 10 of Newcombe 1998, Stat. Med. 17:2635); over several common seeds the t-interval "
    "of the per-seed differences; without common test samples Newcombe's unpaired interval."
)

# A comparison, a text shown as is (e.g. "reference"), or None (no predictions: untested).
Cell = Comparison | str | None


def delta_text(comparison: Cell) -> str:
    """``**+4.20 pp** [+1.0, +7.4]`` for a real difference, ``within noise [-3.1, +5.0]`` otherwise."""
    if isinstance(comparison, str):
        return comparison
    if comparison is None:
        return UNTESTED
    interval = fmt.interval_points(comparison.interval.low, comparison.interval.high)
    if comparison.separated:
        return f"**{fmt.points(comparison.delta)}** {interval}"
    return f"{WITHIN_NOISE} {interval}"


def paired_on(comparison: Cell) -> str:
    """Which seeds and how many samples the comparison paired, or why it is unpaired."""
    if not isinstance(comparison, Comparison):
        return fmt.MISSING
    if not comparison.paired:
        return "unpaired: no common test samples (Fisher's exact test)"
    seeds = comparison.seeds
    names = ", ".join(fmt.text(pair.seed) for pair in seeds)
    sizes = {pair.n for pair in seeds}
    size = f"{seeds[0].n:,}" if len(sizes) == 1 else "/".join(f"{pair.n:,}" for pair in seeds)
    count = f"{len(seeds)} × {size}" if len(seeds) > 1 else size
    how = "by sample id" if seeds[0].how == "sample ids" else "by position"
    return f"seed{'s' if len(seeds) > 1 else ''} {names} · {count} samples ({how})"


def _columns(comparisons: list[Cell]) -> dict[str, list]:
    real = [c if isinstance(c, Comparison) else None for c in comparisons]
    return {
        P_MCNEMAR: [c.mcnemar if c else None for c in real],
        P_PER_SEED: [_per_seed(c) for c in real],
        P_T: [c.t_pvalue if c else None for c in real],
        P_HOLM: [c.adjusted if c else None for c in real],
        PAIRED_ON: [paired_on(c) for c in comparisons],
    }


def _per_seed(comparison: Comparison | None) -> str | None:
    if comparison is None or len(comparison.seeds) < 2:
        return None
    return ", ".join(fmt.pvalue(pair.pvalue) for pair in comparison.seeds)


def _p_text(comparison: Cell, value: object) -> str:
    text = fmt.pvalue(value)
    return f"{text} (Fisher)" if isinstance(comparison, Comparison) and comparison.test == "Fisher" else text


def add_comparisons(data: pd.DataFrame, text: pd.DataFrame, comparisons: list[Cell], column: str) -> str:
    """Fill ``column`` (Δ) from ``comparisons`` and insert the p-value columns after it, in place.

    The numbers go into ``data`` (the paired Δ replaces the difference of means when there is one),
    the words into ``text``; p-value columns that are empty for every row are left out. Returns the
    table note naming the interval method (empty when no row was compared).
    """
    data[column] = [
        c.delta if isinstance(c, Comparison) else value for c, value in zip(comparisons, data[column], strict=True)
    ]
    text[column] = [delta_text(c) for c in comparisons]
    position = list(data.columns).index(column) + 1
    for name, values in _columns(comparisons).items():
        if all(fmt.is_missing(value) or value == fmt.MISSING for value in values):
            continue
        data.insert(position, name, values)
        if name in (P_PER_SEED, PAIRED_ON):
            shown = [fmt.text(value) for value in values]
        elif name == P_MCNEMAR:
            shown = [_p_text(c, value) for c, value in zip(comparisons, values, strict=True)]
        else:
            shown = [fmt.pvalue(value) for value in values]
        text.insert(position, name, shown)
        position += 1
    return INTERVAL_NOTE if any(isinstance(c, Comparison) for c in comparisons) else ""
