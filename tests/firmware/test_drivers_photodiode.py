"""Photodiode auto-ranging over the board's range table, against the simulated TIA + ADS1115."""

import pytest

from tests.support.drivers import run_both

pytestmark = pytest.mark.micropython

_MAKE = """
bench, board = fixed_board(accel=1000)
pd = Photodiode(ADS1115(board.i2c, cfg.ADDR_ADS1115), board.tia_gain, cfg)

def full_scale_pa(index):
    entry = cfg.PD_RANGES[index]
    return 32768 * entry[2] // entry[3]
"""


def test_range_table_is_most_sensitive_first_and_spans_five_decades():
    run_both(_MAKE, """
    scales = [full_scale_pa(i) for i in range(len(cfg.PD_RANGES))]
    assert scales == sorted(scales)
    lsb_pa = cfg.PD_RANGES[0][2] / cfg.PD_RANGES[0][3]
    assert lsb_pa <= 1.0 and scales[-1] >= 40_000_000
    # ranging needs each step-up point above the next range's step-down point
    for i in range(len(scales) - 1):
        assert 2 * cfg.PD_UP_CODE * scales[i] > 3 * cfg.PD_DOWN_CODE * scales[i + 1], i
    for tia, pga, num, den in cfg.PD_RANGES:
        assert num < 2**15 and den < 2**15
    """)


def test_readings_track_the_photocurrent_from_10_pa_to_40_ua():
    run_both(_MAKE, """
    currents_pa = [10, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000, 40_000_000]
    used = []
    for want in currents_pa:
        bench.photo_a = want * 1e-12
        got = pd.read_pa(4)
        entry = cfg.PD_RANGES[pd.range_index]
        tolerance = entry[2] // entry[3] + 1 + want // 1000  # an LSB and 0.1 %
        assert abs(got - want) <= tolerance, (want, got, pd.range_index)
        assert not pd.saturated
        used.append(pd.range_index)
    assert used == sorted(used) and used[0] == 0 and used[-1] == len(cfg.PD_RANGES) - 1, used
    """)


def test_a_jump_from_dark_to_full_scale_ranges_in_a_few_conversions():
    run_both(_MAKE, """
    bench.photo_a = 5e-12
    pd.read_pa(1)
    assert pd.range_index == 0
    bench.photo_a = 30e-6
    got = pd.read_pa(1)
    assert pd.range_index == len(cfg.PD_RANGES) - 1
    assert abs(got - 30_000_000) <= 30_000
    assert pd.conversions <= 3, pd.conversions
    bench.photo_a = 5e-12
    got = pd.read_pa(1)
    assert pd.range_index == 0 and pd.conversions <= 3, (pd.range_index, pd.conversions)
    """)


def test_each_read_is_taken_after_the_last_range_change():
    run_both(_MAKE, """
    bench.photo_a = 1e-6
    got = pd.read_pa(1)  # starts on range 0, saturates, moves, re-measures
    assert pd.conversions >= 2
    assert abs(got - 1_000_000) <= 1000 and not pd.saturated
    """)


def test_no_range_flapping_just_above_a_step_up_point():
    run_both(_MAKE, """
    # 91 % of range 1's full scale, with +-2 % wobble: must settle on range 2 and stay
    base_pa = full_scale_pa(1) * 91 // 100
    bench.photo_a = base_pa * 1e-12
    pd.read_pa(1)
    settled = pd.range_index
    assert settled == 2, settled
    changes = 0
    for i in range(60):
        bench.photo_a = base_pa * (1 + 0.02 * ((i % 5) - 2) / 2) * 1e-12
        pd.read_pa(1)
        if pd.range_index != settled:
            changes += 1
            settled = pd.range_index
    assert changes == 0, changes
    """)


def test_no_range_flapping_around_a_step_down_point():
    run_both(_MAKE, """
    # just around 8 % of range 3 (the 100 kohm range): ranging down must not bounce back
    base_pa = full_scale_pa(3) * 8 // 100
    indices = set()
    for i in range(60):
        bench.photo_a = base_pa * (1 + 0.03 * ((i % 3) - 1)) * 1e-12
        pd.read_pa(1)
        indices.add(pd.range_index)
    assert len(indices) <= 2, indices
    bench.photo_a = base_pa * 1e-12
    first = pd.read_pa(1)
    index = pd.range_index
    for i in range(20):
        pd.read_pa(1)
        assert pd.range_index == index
    """)


def test_saturation_is_reported_on_the_least_sensitive_range():
    run_both(_MAKE, """
    bench.photo_a = 80e-6  # above 40.96 uA
    got = pd.read_pa(2)
    assert pd.saturated and pd.range_index == len(cfg.PD_RANGES) - 1
    assert got == 32767 * 1250
    bench.photo_a = 20e-6
    pd.read_pa(2)
    assert not pd.saturated
    """)


def test_oversampling_averages_in_integer_picoamps():
    run_both(_MAKE, """
    bench.photo_a = 12_345e-12  # range 0: 0.78125 pA per code
    got = pd.read_pa(8)
    assert pd.conversions >= 8  # ranging conversions come first
    assert isinstance(got, int) and abs(got - 12_345) <= 1, got
    assert board.tia_gain.value() == cfg.PD_RANGES[pd.range_index][0]
    """)


def test_a_conversion_that_never_finishes_raises_instead_of_hanging():
    run_both("""
    class StuckADS:
        def start(self, channel, pga, rate):
            pass
        def ready(self):
            return False
        def read_raw(self):
            return 0
    pd = Photodiode(StuckADS(), SimPin(0), cfg)
    expect_oserror(lambda: pd.read_pa(1), 110)
    """)
