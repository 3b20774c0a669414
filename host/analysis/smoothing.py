"""Centred running median: removes isolated spikes, keeps the shape of monotone trends."""

import numpy as np

MAX_WINDOW = 11
CHUNK_ROWS = 8192  # windows whose median is taken at once (a bounded copy)


def window_for(n: int) -> int:
    """Odd window: about 4 % of the record, between 3 and 11 samples."""
    w = max(3, min(MAX_WINDOW, n // 25))
    return w if w % 2 else w + 1


def running_median(values: np.ndarray, window: int) -> np.ndarray:
    """Median over a centred window; near the ends the window shrinks symmetrically.

    Symmetric windows keep a monotone sequence unchanged (the median of a monotone window is
    its centre), so a clean curve is analysed exactly as measured. The end samples are kept
    as measured.
    """
    y = np.asarray(values, float)
    n = len(y)
    half = window // 2
    out = y.copy()
    if n >= window:
        windows = np.lib.stride_tricks.sliding_window_view(y, window)
        # In chunks: np.median copies its windows, window times the record for all at once.
        for start in range(0, len(windows), CHUNK_ROWS):
            chunk = windows[start : start + CHUNK_ROWS]
            out[half + start : half + start + len(chunk)] = np.median(chunk, axis=1)
    for i in range(min(half, n)):
        for j in (i, n - 1 - i):
            k = min(j, n - 1 - j, half)
            out[j] = np.median(y[j - k : j + k + 1])
    return out
