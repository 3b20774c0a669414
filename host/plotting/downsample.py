"""Plot downsampling: largest-triangle-three-buckets (LTTB) over numpy arrays.

Source: S. Steinarsson, "Downsampling Time Series for Visual Representation", MSc thesis,
University of Iceland, 2013, section 4.2 (LTTB).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def lttb_indices(x: np.ndarray, y: np.ndarray, max_points: int) -> np.ndarray:
    """Indices (increasing, int64) of at most max_points points that keep the curve's shape.

    Use them to pick whole rows (every column) of a run for a plot. Points whose x or y is
    NaN or infinite (a NULL) are never picked, except when no point is finite: then the
    picks are evenly spaced so the rows still come. The first and last finite points are
    always kept; with max_points >= the number of finite points every one is returned.
    x must be in plotting order (non-decreasing for a time axis). ValueError when
    max_points < 1 or the lengths differ.
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} points, y has {len(y)}")
    if max_points < 1:
        raise ValueError(f"max_points must be at least 1, not {max_points}")
    finite = np.isfinite(x) & np.isfinite(y)
    if finite.all() and len(x) > max_points >= 3:
        return _lttb(x, y, max_points)
    valid = np.flatnonzero(finite)
    if len(valid) == 0:
        return _evenly_spaced(len(x), max_points)
    if len(valid) <= max_points:
        return valid
    if max_points < 3:
        return valid[[0, -1][:max_points]]
    return valid[_lttb(x[valid], y[valid], max_points)]


def lttb(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """The picked (x, y) points; see lttb_indices for the rules."""
    index = lttb_indices(x, y, max_points)
    return np.asarray(x, dtype=np.float64)[index], np.asarray(y, dtype=np.float64)[index]


def lttb_rows(x: np.ndarray, ys: Sequence[np.ndarray], max_points: int) -> np.ndarray:
    """Row indices (increasing) for one plot of several series against x, at most max_points.

    Each series gets an equal share of max_points through lttb_indices, so every plotted
    curve keeps its shape; the rows are the union of the shares. With more series than
    max_points only the first max_points series are considered.
    """
    if max_points < 1:
        raise ValueError(f"max_points must be at least 1, not {max_points}")
    if not ys:
        raise ValueError("no series to downsample")
    ys = list(ys)[:max_points]
    share = max_points // len(ys)
    picked = [lttb_indices(x, y, share) for y in ys]
    return np.unique(np.concatenate(picked)).astype(np.int64)


def _evenly_spaced(n: int, max_points: int) -> np.ndarray:
    if n <= max_points:
        return np.arange(n, dtype=np.int64)
    if max_points == 1:
        return np.zeros(1, dtype=np.int64)
    return np.unique(np.round(np.linspace(0, n - 1, max_points)).astype(np.int64))


def _lttb(x: np.ndarray, y: np.ndarray, max_points: int) -> np.ndarray:
    """LTTB on finite points, n > max_points >= 3. Positions into x and y."""
    n = len(x)
    n_buckets = max_points - 2
    # Bucket b holds points [edges[b], edges[b + 1]); the first and last points stand alone.
    # floor(b * (n - 2) / n_buckets) in integers: a float product can round below a whole
    # number and leave the last bucket short.
    edges = np.arange(n_buckets + 1, dtype=np.int64) * (n - 2) // n_buckets + 1
    # Each bucket is scored against the mean of the next one (the last point for the last).
    next_lo = edges[1:]
    next_len = np.append(edges[2:], n) - next_lo
    mean_x = (np.add.reduceat(x, next_lo) / next_len).tolist()
    mean_y = (np.add.reduceat(y, next_lo) / next_len).tolist()
    picked = np.empty(max_points, dtype=np.int64)
    picked[0] = 0
    picked[-1] = n - 1
    bounds = edges.tolist()
    a = 0
    ax, ay = float(x[0]), float(y[0])
    for b in range(n_buckets):
        lo, hi = bounds[b], bounds[b + 1]
        # Twice the triangle area (a, point, next mean): |(px-ax)(cy-ay) - (py-ay)(cx-ax)|.
        area = x[lo:hi] - ax
        area *= mean_y[b] - ay
        dy = y[lo:hi] - ay
        dy *= mean_x[b] - ax
        area -= dy
        a = lo + int(np.abs(area, out=area).argmax())
        picked[b + 1] = a
        ax, ay = float(x[a]), float(y[a])
    return picked
