"""Plot downsampling figures: host.plotting.downsample's LTTB on 10^6 points against the same
algorithm written point by point, measured in the same run on the same curve."""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from host.plotting.downsample import lttb_indices

GOAL_MS = 100


def lttb_point_by_point(x: list[float], y: list[float], threshold: int) -> list[int]:
    """LTTB as the thesis writes it, one point at a time (threshold >= 3 < len(x)).

    Source: S. Steinarsson, "Downsampling Time Series for Visual Representation", 2013, 4.2.
    The tests also hold host.plotting.downsample to this.
    """
    n = len(x)
    buckets = threshold - 2

    def edge(i: int) -> int:  # floor(i * every) + 1, every = (n - 2) / buckets, exactly
        return i * (n - 2) // buckets + 1

    out = [0]
    a = 0
    for i in range(buckets):
        avg_start = edge(i + 1)
        avg_end = min(edge(i + 2), n)
        avg_x = sum(x[avg_start:avg_end]) / (avg_end - avg_start)
        avg_y = sum(y[avg_start:avg_end]) / (avg_end - avg_start)
        best, best_area = -1, -1.0
        for j in range(edge(i), edge(i + 1)):
            area = abs((x[a] - avg_x) * (y[j] - y[a]) - (x[a] - x[j]) * (avg_y - y[a]))
            if area > best_area:
                best, best_area = j, area
        out.append(best)
        a = best
    out.append(n - 1)
    return out


def lifetime_curve(n: int, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """A noisy stretched-exponential decay sampled every 0.5 s, with a few dropouts."""
    rng = np.random.default_rng(seed)
    t_s = np.arange(n) * 0.5
    luminance = 1000 * np.exp(-((t_s / 1e5) ** 0.7)) + rng.normal(0, 2, n)
    luminance[rng.integers(0, n, 20)] = 0.0
    return t_s, luminance


def run(n_points: int = 1_000_000, max_points: int = 2000, repeats: int = 7) -> dict[str, Any]:
    x, y = lifetime_curve(n_points)
    times, cpu_times = [], []
    for _ in range(repeats):
        t0, cpu0 = time.perf_counter(), time.process_time()
        fast = lttb_indices(x, y, max_points)
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - cpu0)
    x_list, y_list = x.tolist(), y.tolist()
    t0 = time.perf_counter()
    slow = lttb_point_by_point(x_list, y_list, max_points)
    slow_s = time.perf_counter() - t0
    assert fast.tolist() == slow
    best_ms, median_ms = min(times) * 1e3, float(np.median(times)) * 1e3
    return {
        "lttb_1e6_to_2000_ms": {"value": median_ms, "unit": "ms (median)",
                                "goal": f"< {GOAL_MS}"},
        "lttb_1e6_to_2000_best_ms": {"value": best_ms, "unit": "ms"},
        "lttb_1e6_to_2000_cpu_ms": {"value": float(np.median(cpu_times)) * 1e3,
                                    "unit": "CPU ms (median)"},
        "lttb_point_by_point_ms": {"value": slow_s * 1e3, "unit": "ms"},
        "lttb_vs_point_by_point_ratio": {"value": slow_s * 1e3 / median_ms, "unit": "x"},
    }


if __name__ == "__main__":
    for key, figure in run().items():
        print(f"{key:32s} {figure['value']:12.4g} {figure['unit']}")
