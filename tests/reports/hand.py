"""Statistics written out by hand (textbook formulas), to check the library-backed report numbers against."""

from __future__ import annotations

import math

Z95 = 1.959963984540054  # two-sided 95% normal quantile


def wilson(correct: int, n: int) -> tuple[float, float]:
    """Wilson score interval: (p̂ + z²/2n ± z √(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n)."""
    p = correct / n
    centre = (p + Z95**2 / (2 * n)) / (1 + Z95**2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / (1 + Z95**2 / n)
    return centre - half, centre + half


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar: 2 · P(X ≤ min(b, c)), X ~ Binomial(b + c, 1/2), capped at 1."""
    m = b + c
    tail = sum(math.comb(m, k) for k in range(min(b, c) + 1)) / 2**m
    return min(1.0, 2 * tail)


def holm(pvalues: list[float]) -> list[float]:
    """Holm step-down: sort ascending, multiply the i-th (0-based) by m − i, running maximum, cap at 1."""
    m = len(pvalues)
    order = sorted(range(m), key=lambda index: pvalues[index])
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * pvalues[index]))
        adjusted[index] = running
    return adjusted


def newcombe_paired(both: int, only_a: int, only_b: int, neither: int) -> tuple[float, float]:
    """Newcombe (1998) method 10 for acc_a − acc_b, written out: Wilson limits per margin, φ* from the 2×2 table."""
    n = both + only_a + only_b + neither
    p1, p2 = (both + only_a) / n, (both + only_b) / n
    (l1, u1), (l2, u2) = wilson(both + only_a, n), wilson(both + only_b, n)
    e, f, g, h = both + only_a, only_b + neither, both + only_b, only_a + neither
    ad_bc = both * neither - only_a * only_b
    if 0 in (e, f, g, h):
        phi = 0.0
    elif ad_bc > n / 2:
        phi = (ad_bc - n / 2) / math.sqrt(e * f * g * h)
    elif ad_bc >= 0:
        phi = 0.0
    else:
        phi = ad_bc / math.sqrt(e * f * g * h)
    low = (p1 - p2) - math.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    high = (p1 - p2) + math.sqrt((p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2)
    return low, high


def paired_wald(both: int, only_a: int, only_b: int, neither: int) -> tuple[float, float]:
    """Paired Wald interval: Δ ± z √((b + c)/n² − (b − c)²/n³)."""
    n = both + only_a + only_b + neither
    delta = (only_a - only_b) / n
    half = Z95 * math.sqrt((only_a + only_b) / n**2 - (only_a - only_b) ** 2 / n**3)
    return delta - half, delta + half
