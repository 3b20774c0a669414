"""INA226 driver against the simulated chip: calibration, current register, bus voltage."""

import pytest

from tests.support.drivers import run_both

pytestmark = pytest.mark.micropython

_MAKE = """
bench, board = fixed_board(accel=1000)
ina = INA226(board.i2c, cfg.ADDR_INA226, cfg.INA226_CAL, cfg.INA226_CURRENT_LSB_NA,
             cfg.INA226_CONFIG)

def settle():
    board.sleep_us(2 * board.ina.period_us())
"""


def test_calibration_matches_the_shunt_and_current_lsb():
    run_both("""
    # CAL = 0.00512 / (current_lsb * R_shunt), datasheet eq. 1, in integers
    assert cfg.INA226_CAL == 512 * 10**13 // (cfg.INA226_CURRENT_LSB_NA * cfg.SHUNT_MOHM * 10**6)
    assert 32767 * cfg.INA226_CURRENT_LSB_NA >= 4_000_000  # >= 4 mA full scale
    assert cfg.MAX_COMPLIANCE_NA < 32767 * cfg.INA226_CURRENT_LSB_NA
    """)


def test_current_reads_zero_until_configure_writes_the_calibration():
    run_both(_MAKE, """
    bench.current_a = 1e-3
    settle()
    assert ina.read_current_na() == 0
    ina.configure()
    settle()
    assert ina.read_current_na() == 1_000_000
    """)


def test_current_register_gives_nanoamps_in_125_na_steps():
    run_both(_MAKE, """
    ina.configure()
    for current_na in (0, 125, 250_000, 1_234_567, 4_000_000, -50_000):
        bench.current_a = current_na * 1e-9
        settle()
        got = ina.read_current_na()
        assert got % 125 == 0 and abs(got - current_na) <= 63, (current_na, got)
    """)


def test_current_clips_at_the_shunt_full_scale():
    run_both(_MAKE, """
    ina.configure()
    bench.current_a = 10e-3
    settle()
    assert ina.read_current_na() == 32767 * 125
    """)


def test_bus_voltage_reads_in_millivolts():
    run_both(_MAKE, """
    ina.configure()
    for mv in (0, 1250, 5000, 12345, 20000):
        bench.voltage_v = mv / 1000
        settle()
        assert abs(ina.read_bus_mv() - mv) <= 1, (mv, ina.read_bus_mv())
    """)


def test_configure_refuses_a_chip_that_is_not_an_ina226():
    run_both("""
    i2c = SimI2C()
    from hil_sim.chips.register_chip import RegisterChip
    class Other(RegisterChip):
        def read_register(self, ptr):
            return 0x1234
    i2c.attach(0x40, Other())
    ina = INA226(i2c, 0x40, 2048, 125, cfg.INA226_CONFIG)
    expect_oserror(ina.configure, 19)
    """)


def test_missing_chip_raises_enodev():
    run_both("""
    ina = INA226(SimI2C(), 0x40, 2048, 125, cfg.INA226_CONFIG)
    expect_oserror(ina.read_bus_mv, 19)
    """)
