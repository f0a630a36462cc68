"""The start-time grid: multiples of the granularity on the UTC clock.

A start is on the grid when its minutes since UTC midnight are a multiple
of the granularity; every UTC midnight is on the grid.
"""

from __future__ import annotations

from collections.abc import Iterator

DAY = 86400


def grid_ceil(moment: int, step: int) -> int:
    """The first grid point at or after ``moment`` (POSIX seconds)."""
    midnight = moment - moment % DAY
    point = midnight + -(-(moment - midnight) // step) * step
    return min(point, midnight + DAY)


def grid_points(low: int, high: int, step: int) -> Iterator[int]:
    """Grid points in the closed range ``[low, high]``."""
    point = grid_ceil(low, step)
    while point <= high:
        yield point
        point = grid_ceil(point + 1, step)


def on_grid(moment: int, step: int) -> bool:
    return grid_ceil(moment, step) == moment
