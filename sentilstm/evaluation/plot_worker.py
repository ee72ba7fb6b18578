"""Report plots rendered in a helper process that imports matplotlib while the model predicts.

``sentilstm evaluate --report`` spends most of its time outside prediction on matplotlib: about
0.6 s to import it and about 0.3 s per plot (two draws each, for constrained layout).  A
:class:`PlotRenderer` started before the data and the model are loaded imports matplotlib
(and loads its fonts) in a fresh ``spawn`` process, on another core, while this process reads
the data and predicts; the plots are then drawn there from the report's data dict.  The PNG
bytes are those the same plot functions give in this process (tested): same code, same
matplotlib defaults (the worker is a fresh interpreter, so rcParams changed in this process do
not reach it; the renderer is for the CLI, where nothing changes them).

If the helper process cannot be started or fails, the plots are drawn in this process instead,
so a report never depends on it.
"""

from __future__ import annotations

import concurrent.futures as cf
from typing import Any

from sentilstm.evaluation.plots import new_figure, png_bytes, PLOTTERS
from sentilstm.evaluation.render import PLOTS

__all__ = ["PlotRenderer"]


def _warm() -> bool:
    """In the worker: import matplotlib and draw a small text figure (loads the font cache)."""
    fig = new_figure(1, 1)
    fig.text(0.5, 0.5, "warm")
    png_bytes(fig)
    return True


def _render(kind: str, data: dict[str, Any]) -> bytes:
    return PLOTTERS[kind](data)


class PlotRenderer:
    """A pool of ``processes`` spawn processes, warming up from the moment it is made."""

    def __init__(self, processes: int = 1) -> None:
        import multiprocessing

        self._pool: cf.ProcessPoolExecutor | None = None
        try:
            self._pool = cf.ProcessPoolExecutor(max(1, processes), mp_context=multiprocessing.get_context("spawn"))
            self._warming = [self._pool.submit(_warm) for _ in range(max(1, processes))]
        except (OSError, RuntimeError, ValueError):  # no processes here (sandbox, limits): draw in-process
            self.close()

    def render(self, data: dict[str, Any]) -> dict[str, bytes]:
        """PNG bytes of each plot of the report ``data``, by file name (as :meth:`Report.plots`)."""
        futures = {}
        if self._pool is not None:
            try:
                futures = {k: self._pool.submit(_render, k, data) for k in PLOTTERS}
            except RuntimeError:  # the pool broke (a worker died)
                futures = {}
        out = {}
        for k, fn in PLOTTERS.items():
            try:
                out[PLOTS[k]] = futures[k].result() if k in futures else fn(data)
            except (cf.process.BrokenProcessPool, OSError, EOFError):
                out[PLOTS[k]] = fn(data)  # the helper process failed, not the plot: draw it here
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> "PlotRenderer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
