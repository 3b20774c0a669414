"""ADS1115 driver against the simulated ADC + TIA: PGA ranges, conversion, OS bit, saturation."""

import pytest

from tests.support.drivers import run_both

pytestmark = pytest.mark.micropython

_MAKE = """
from lumenfw.drivers.ads1115 import PGA_FULL_SCALE_UV, conversion_us
bench, board = fixed_board(accel=100)
ads = ADS1115(board.i2c, cfg.ADDR_ADS1115)

def convert(pga, rate=7, channel=0):
    ads.start(channel, pga, rate)
    while not ads.ready():
        pass
    return ads.read_raw()
"""


def test_each_pga_range_converts_its_half_scale_voltage_to_16384():
    run_both(_MAKE, """
    board.tia_gain.value(1)  # 100 kohm
    for pga in range(6):
        bench.photo_a = PGA_FULL_SCALE_UV[pga] / 2 / 1e6 / 100_000
        code = convert(pga)
        assert abs(code - 16384) <= 1, (pga, code)
    """)


def test_negative_input_gives_a_negative_code():
    run_both(_MAKE, """
    board.tia_gain.value(0)
    bench.photo_a = -10e-9  # -0.1 V at 10 Mohm
    code = convert(3)
    assert abs(code + 3200) <= 1, code  # 1.024 V full scale: 31.25 uV per code
    """)


def test_code_saturates_at_32767_beyond_full_scale():
    run_both(_MAKE, """
    board.tia_gain.value(0)
    bench.photo_a = 1e-7  # 1 V into the 0.256 V range
    assert convert(5) == 32767
    bench.photo_a = -1e-7
    assert convert(5) == -32768
    """)


def test_tia_output_clips_at_its_rail():
    run_both(_MAKE, """
    board.tia_gain.value(0)
    bench.photo_a = 1e-6  # 10 V wanted at 10 Mohm; the rail is 4.8 V
    code = convert(0)  # +-6.144 V range: 187.5 uV per code
    assert abs(code - cfg.TIA_RAIL_MV * 1000 * 32768 // 6_144_000) <= 1, code
    """)


def test_tia_gain_pin_selects_the_feedback_resistor():
    run_both(_MAKE, """
    bench.photo_a = 1e-9
    board.tia_gain.value(0)
    high = convert(1)  # 10 mV at 10 Mohm, 125 uV per code
    board.tia_gain.value(1)
    low = convert(1)  # 0.1 mV at 100 kohm
    assert high == 80 and low == 1, (high, low)
    """)


def test_grounded_inputs_read_zero():
    run_both(_MAKE, """
    bench.photo_a = 1e-8
    assert convert(5, channel=1) == 0
    assert convert(5, channel=3) == 0
    """)


def test_ready_is_false_until_the_conversion_time_has_passed():
    run_both("""
    from hil_sim.chips.ads1115 import SimADS1115
    from lumenfw.drivers.ads1115 import conversion_us
    bench = FixedBench()
    bench.photo_a = 5e-9
    source = ManualSource(bench)
    clock = ManualClock()
    i2c = SimI2C()
    i2c.attach(0x48, SimADS1115(source, clock, SimPin(0), (10_000_000, 100_000), 4800))
    ads = ADS1115(i2c, 0x48)
    assert ads.ready()  # idle at power-on
    for rate, sps in ((7, 860), (4, 128), (0, 8)):
        ads.start(0, 2, rate)
        assert not ads.ready()
        clock.t_us += conversion_us(rate) - 1
        assert not ads.ready()
        clock.t_us += 1
        assert ads.ready()
        assert abs(ads.read_raw() - 800) <= 1  # 50 mV, 62.5 uV per code
        assert conversion_us(rate) == (1_000_000 + sps - 1) // sps
    """)


def test_conversion_register_holds_the_previous_result_while_converting():
    run_both("""
    from hil_sim.chips.ads1115 import SimADS1115
    bench = FixedBench()
    source = ManualSource(bench)
    clock = ManualClock()
    i2c = SimI2C()
    i2c.attach(0x48, SimADS1115(source, clock, SimPin(0), (10_000_000, 100_000), 4800))
    ads = ADS1115(i2c, 0x48)
    bench.photo_a = 5e-9
    ads.start(0, 2, 7)
    clock.t_us += 2000
    first = ads.read_raw()
    bench.photo_a = 10e-9
    source.moved()
    ads.start(0, 2, 7)
    assert ads.read_raw() == first
    clock.t_us += 2000
    assert abs(ads.read_raw() - 2 * first) <= 1
    """)


def test_config_register_reads_back_what_was_written():
    run_both(_MAKE, """
    ads.start(2, 4, 5)
    buf = bytearray(2)
    board.i2c.readfrom_mem_into(cfg.ADDR_ADS1115, 1, buf)
    word = (buf[0] << 8) | buf[1]
    assert (word >> 12) & 7 == 6 and (word >> 9) & 7 == 4 and (word >> 5) & 7 == 5
    assert word & 0x0100 and word & 3 == 3
    """)
