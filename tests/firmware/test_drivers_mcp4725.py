"""MCP4725 driver against the simulated DAC: codes, setpoints, the 5-byte read, range errors."""

import pytest

from tests.support.drivers import run_both

pytestmark = pytest.mark.micropython


def test_dac_code_round_trips_through_the_chip_for_every_tenth_code():
    run_both("""
    bench, board = fixed_board()
    dac = MCP4725(board.i2c, cfg.ADDR_DAC)
    for code in list(range(0, 4096, 10)) + [4095]:
        dac.write_code(code)
        assert dac.read_code() == code, code
    """)


def test_dac_code_sets_the_bench_supply_setpoint_in_volts():
    run_both("""
    bench, board = fixed_board()
    dac = MCP4725(board.i2c, cfg.ADDR_DAC)
    dac.write_code(dac_code(12500, cfg))
    assert abs(bench.setpoint_v - 12.5) < 0.005, bench.setpoint_v
    dac.write_code(0)
    assert bench.setpoint_v == 0.0
    """)


def test_setpoint_to_code_rounds_and_clamps():
    run_both("""
    assert dac_code(0, cfg) == 0
    assert dac_code(20000, cfg) == 4095
    assert dac_code(-5, cfg) == 0
    assert dac_code(10000, cfg) == 2048
    assert dac_mv(2048, cfg) == 10000
    for mv in (1, 123, 4567, 19990):
        assert abs(dac_mv(dac_code(mv, cfg), cfg) - mv) <= 3, mv  # half an LSB is 2.44 mV
    """)


def test_dac_rejects_codes_outside_twelve_bits():
    run_both("""
    bench, board = fixed_board()
    dac = MCP4725(board.i2c, cfg.ADDR_DAC)
    for bad in (-1, 4096):
        try:
            dac.write_code(bad)
        except ValueError:
            continue
        raise AssertionError(bad)
    """)


def test_power_down_bits_turn_the_supply_off():
    run_both("""
    bench, board = fixed_board()
    dac = MCP4725(board.i2c, cfg.ADDR_DAC)
    dac.write_code(4000)
    board.i2c.writeto(cfg.ADDR_DAC, bytes([0x30 | (4000 >> 8), 4000 & 0xFF]))  # PD = 11
    assert bench.setpoint_v == 0.0
    assert board.dac.power_down == 3
    """)


def test_safe_outputs_open_the_relay_close_the_shutter_and_zero_the_dac():
    run_both("""
    bench, board = fixed_board()
    dac = MCP4725(board.i2c, cfg.ADDR_DAC)
    dac.write_code(3000)
    board.relay.value(1)
    board.laser.value(1)
    board.shutter.value(cfg.SHUTTER_OPEN_LEVEL)
    assert bench.relay and bench.laser and bench.shutter_open
    assert safe_outputs(board, dac)
    assert not bench.relay and not bench.laser and bench.shutter_open is False
    assert dac.read_code() == 0 and bench.setpoint_v == 0.0
    """)


def test_safe_outputs_still_clears_the_pins_when_the_dac_is_gone():
    run_both("""
    bench, board = fixed_board()
    dac = MCP4725(board.i2c, cfg.ADDR_DAC)
    board.relay.value(1)
    board.i2c.fail(cfg.ADDR_DAC)
    assert safe_outputs(board, dac) is False
    assert board.relay.value() == 0 and not bench.relay
    """)
