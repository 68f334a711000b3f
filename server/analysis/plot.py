"""Draw centre counts over time (I/O edge; matplotlib is an optional extra, imported lazily)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

INSTALL_HINT = "pip install -e '.[plot]'"


class PlotUnavailable(RuntimeError):
    """matplotlib is not installed."""

    def __init__(self) -> None:
        super().__init__(f"--plot needs matplotlib, an optional extra: {INSTALL_HINT}")


def plot_centres(
    out: str | Path,
    nations: Sequence[str],
    years: np.ndarray,
    centres: np.ndarray,
    *,
    colours: dict[str, str] | None = None,
    title: str = "",
) -> None:
    """Write a PNG of supply centres per nation over the years.

    Raises:
        PlotUnavailable: matplotlib is missing.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise PlotUnavailable() from None
    fig, ax = plt.subplots(figsize=(9, 5), dpi=100)
    for k, n in enumerate(nations):
        ax.plot(years, centres[k], marker="o", markersize=3, label=n,
                color=(colours or {}).get(n))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(bottom=0)
    ax.set_xlabel("year (end of)")
    ax.set_ylabel("supply centres")
    ax.set_title(title or "Supply centres over time")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize="small", ncol=2)
    fig.tight_layout()
    fig.savefig(str(out))
    plt.close(fig)
