"""Sweeps: the grid of options (``grid``), training every setting or an Optuna search over it
(``driver``, ``search``), and the sweep folder's table, figure and page (``folder``).

May import: ``aekit.api`` and everything below it.
"""

from .driver import sweep

__all__ = ["sweep"]
