"""Shared plotting setup: figures drawn off-screen (Agg, no pyplot state), colours, saving."""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

DPI = 110
BACKEND_COLOURS = {
    "torch": "#d62728",
    "keras/tensorflow": "#1f77b4",
    "keras/jax": "#2ca02c",
    "keras/torch": "#9467bd",
    "keras": "#17becf",
}
RUN_PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
OTHER_COLOUR = "#555555"


def new_figure(width: float = 7.0, height: float = 4.2) -> Figure:
    """A figure with an Agg canvas attached (works in headless processes and threads)."""
    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def backend_colour(label: str) -> str:
    """Fixed colour of a backend label (``torch``, ``keras/tensorflow`` ...), the same in every plot."""
    return BACKEND_COLOURS.get(label, OTHER_COLOUR)


def run_colour(index: int) -> str:
    """Colour of the ``index``-th run in multi-run plots."""
    return RUN_PALETTE[index % len(RUN_PALETTE)]


def save(figure: Figure, path: Path) -> Path:
    """Write ``figure`` as PNG (creating the folder) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", bbox_inches="tight")
    return path


def short(text: str, limit: int = 48) -> str:
    """Shorten a label for legends and titles, keeping its start and its end (where seeds and options are)."""
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return text[:head] + "…" + text[len(text) - (limit - 1 - head) :]
