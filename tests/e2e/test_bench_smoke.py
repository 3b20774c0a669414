"""Each benchmark module runs in its smallest configuration and returns well-formed figures.

Timings are never asserted here: the machine is shared; `make bench` is where they are read.
"""

from __future__ import annotations

import math
from numbers import Real

import pytest

from bench import bench_api, bench_channels, bench_firmware, bench_link, bench_sim


def assert_well_formed(figures, expected_keys):
    assert set(expected_keys) <= set(figures)
    for key, figure in figures.items():
        assert isinstance(figure["unit"], str), key
        value = figure["value"]
        assert isinstance(value, Real) and math.isfinite(value) and value >= 0, (key, value)


def test_link_bench_counts_samples_through_the_paced_channel():
    figures = bench_link.run(window_s=0.3)
    assert_well_formed(figures, ["link_payload_ratio", "link_vs_jsonl_ratio"])
    assert 0 < figures["link_payload_ratio"]["value"] < 1
    assert figures["link_samples_checked"]["value"] > 0


def test_paced_channel_loses_nothing_it_was_given():
    result = bench_link.measure("jsonl", window_s=0.2, n_samples=2000)
    assert result["samples_checked"] > 0  # measure() raises if any was lost or reordered


@pytest.mark.micropython
def test_firmware_bench_reports_allocation_and_loop_cost():
    figures = bench_firmware.run(samples=100)
    assert_well_formed(figures, ["fw_alloc_bytes_per_sample", "fw_loop_us_per_sample",
                                 "fw_heap_used_bytes"])
    assert figures["fw_naive_float_alloc_bytes_per_sample"]["value"] > 0  # the baseline
    assert figures["fw_max_aggregate_samples_per_s"]["check"].startswith("passes")


def test_the_grid_check_takes_stamps_a_pass_late_and_finds_a_missed_or_extra_period():
    stamps_s = [0.0005] + [k + 0.0003 for k in range(1, 30)]  # a first pass does more
    assert bench_sim.on_grid(stamps_s, 1.0)
    assert not bench_sim.on_grid(stamps_s[:10] + stamps_s[11:], 1.0)
    assert not bench_sim.on_grid(sorted(stamps_s + [10.5]), 1.0)
    assert not bench_sim.on_grid([], 1.0)


@pytest.mark.micropython
def test_sim_bench_times_a_whole_run_through_the_service():
    short = bench_sim.Profile("g1_short", "G1", "lifetime",
                              {"voltage_v": 10.0, "sample_period_s": 1.0, "max_duration_s": 30},
                              1.0, lambda summary: True)
    figures = bench_sim.run((short,), loaded=True)
    assert_well_formed(figures, ["sim_g1_short_realtime_factor", "sim_realtime_factor",
                                 "sim_loop_pass_us", "sim_loop_pass_modelled_us",
                                 "sim_g1_short_loaded_realtime_factor",
                                 "sim_g1_short_loaded_identical"])
    assert "every period sampled: yes" in figures["sim_g1_short_realtime_factor"]["check"]
    assert figures["sim_realtime_factor"]["value"] > 0  # the run passed its checks
    assert figures["sim_g1_short_loaded_identical"]["value"] is True


@pytest.mark.micropython
def test_channels_bench_times_runs_on_every_card_through_the_service():
    figures = bench_channels.run(channels=2, baseline=False, params=dict(
        bench_channels.LIFETIME, max_duration_s=40))
    assert_well_formed(figures, ["multichannel_realtime_factor"])
    check = figures["multichannel_realtime_factor"]["check"]
    assert check.startswith("passes: 2 of 2 runs completed") and "every seq once: yes" in check


@pytest.mark.micropython
def test_api_bench_answers_downsampled_samples_and_streams():
    figures = bench_api.run(n_samples=3000, requests=2, max_points=100, n_clients=3,
                            sse_seconds=1.5, accel=100)
    assert_well_formed(figures, ["api_downsample_ms", "api_downsample_baseline_ms",
                                 "sse_p99_ms"])
    assert figures["sse_events_measured"]["value"] > 0
    assert figures["sse_clients_without_gaps"]["value"] == 3
