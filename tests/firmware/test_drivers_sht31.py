"""SHT31 driver against the simulated sensor: conversion to centi-units, CRC checks, timing."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lumenfw.drivers.sht31 import crc8
from tests.support.drivers import run_both

pytestmark = pytest.mark.micropython

_MAKE = """
bench, board = fixed_board(accel=100)
sht = SHT31(board.i2c, cfg.ADDR_SHT31)

def measure():
    sht.start()
    board.sleep_us(MEASURE_MS * 1000)
    return sht.read()
"""


def _reference_crc(data):
    crc = 0xFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x31) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def test_crc_matches_the_datasheet_example():
    run_both("""
    assert crc8(b"\\xbe\\xef", 0) == 0x92  # SHT3x datasheet 4.12
    """)


@given(st.binary(min_size=2, max_size=2))
def test_crc_agrees_with_a_bytewise_reference(word):
    assert crc8(word, 0) == _reference_crc(word)


def test_readings_convert_to_centi_degrees_and_centi_percent():
    run_both(_MAKE, """
    for t_c, rh in ((25.0, 50.0), (-10.5, 3.2), (85.25, 97.0), (0.0, 0.0)):
        bench.temperature_c = t_c
        bench.rh = rh
        board.sleep_us(10)  # the bench moves, so the sensor measures again
        assert measure()
        assert abs(sht.temperature_cc - t_c * 100) <= 1, (t_c, sht.temperature_cc)
        assert abs(sht.humidity_cpct - rh * 100) <= 1, (rh, sht.humidity_cpct)
    """)


def test_extremes_of_the_raw_range_stay_exact_integers():
    run_both(_MAKE, """
    bench.temperature_c = 130.0  # raw 0xFFFF
    bench.rh = 100.0
    assert measure()
    assert sht.temperature_cc == 13000 and sht.humidity_cpct == 10000
    bench.temperature_c = -45.0
    bench.rh = 0.0
    board.sleep_us(10)
    assert measure()
    assert sht.temperature_cc == -4500 and sht.humidity_cpct == 0
    """)


def test_a_corrupted_crc_is_rejected_and_the_last_values_kept():
    run_both(_MAKE, """
    bench.temperature_c = 21.0
    assert measure()
    kept = sht.temperature_cc
    bench.temperature_c = 30.0
    board.sleep_us(10)
    board.sht.corrupt_crc(1)
    assert measure() is False
    assert sht.temperature_cc == kept
    assert measure() and abs(sht.temperature_cc - 3000) <= 1
    """)


def test_reading_before_the_measurement_is_done_is_nacked():
    run_both("""
    from hil_sim.chips.sht31 import SimSHT31
    bench = FixedBench()
    clock = ManualClock()
    i2c = SimI2C()
    i2c.attach(0x44, SimSHT31(ManualSource(bench), clock))
    sht = SHT31(i2c, 0x44)
    expect_oserror(sht.read, 19)  # nothing measured yet
    sht.start()
    clock.t_us = 14_999
    expect_oserror(sht.read, 19)
    clock.t_us = 15_000
    assert sht.read()
    expect_oserror(sht.read, 19)  # a result is read once
    """)
