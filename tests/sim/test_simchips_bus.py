"""Simulated I2C bus and GPIO: errors like machine.I2C, injected faults, pins driving the bench."""

import pytest

from tests.support.drivers import run_both

pytestmark = pytest.mark.micropython


def test_missing_address_raises_enodev_on_every_transfer():
    run_both("""
    i2c = SimI2C()
    buf = bytearray(2)
    expect_oserror(lambda: i2c.readfrom_mem_into(0x41, 0, buf), 19)
    expect_oserror(lambda: i2c.writeto_mem(0x41, 0, buf), 19)
    expect_oserror(lambda: i2c.writeto(0x41, buf), 19)
    expect_oserror(lambda: i2c.readfrom_into(0x41, buf), 19)
    """)


def test_an_injected_fault_fails_then_heals():
    run_both("""
    bench, board = fixed_board()
    dac = MCP4725(board.i2c, cfg.ADDR_DAC)
    board.i2c.fail(cfg.ADDR_DAC, 5)
    expect_oserror(lambda: dac.write_code(1), 5)
    assert cfg.ADDR_DAC not in board.i2c.scan()
    board.i2c.fail(cfg.ADDR_DAC, 0)
    dac.write_code(1)
    assert board.i2c.scan() == sorted([cfg.ADDR_DAC, cfg.ADDR_INA226, cfg.ADDR_ADS1115,
                                       cfg.ADDR_SHT31])
    """)


def test_a_stuck_chip_acks_reads_0xff_and_ignores_writes():
    run_both("""
    bench, board = fixed_board()
    board.i2c.stick(cfg.ADDR_INA226)
    buf = bytearray(2)
    board.i2c.writeto_mem(cfg.ADDR_INA226, 5, b"\\x08\\x00")
    board.i2c.readfrom_mem_into(cfg.ADDR_INA226, 0xFE, buf)
    assert buf == b"\\xff\\xff"
    assert cfg.ADDR_INA226 in board.i2c.scan()
    board.i2c.stick(cfg.ADDR_INA226, None)
    board.i2c.readfrom_mem_into(cfg.ADDR_INA226, 0xFE, buf)
    assert buf == b"\\x54\\x49"
    """)


def test_a_board_built_with_chip_faults_has_one_chip_missing_and_one_stuck():
    run_both("""
    from hil_sim.board import parse_chip_faults
    faults = parse_chip_faults("missing=sht31,stuck=mcp4725")
    assert faults == {"sht31": "missing", "mcp4725": "stuck"}
    board = SimBoard(FixedBench(), chip_faults=faults)
    assert board.i2c.scan() == sorted([cfg.ADDR_DAC, cfg.ADDR_INA226, cfg.ADDR_ADS1115])
    expect_oserror(lambda: SHT31(board.i2c, cfg.ADDR_SHT31).start(), 19)
    assert MCP4725(board.i2c, cfg.ADDR_DAC).read_code() == 0xFFF
    """)


def test_the_identity_registers_answer_as_the_parts_do():
    run_both("""
    from lumenfw.drivers.sht31 import CMD_READ_SERIAL, CMD_READ_STATUS
    from hil_sim.chips.sht31 import SERIAL, STATUS_AFTER_RESET
    bench, board = fixed_board()
    ina = INA226(board.i2c, cfg.ADDR_INA226, cfg.INA226_CAL, cfg.INA226_CURRENT_LSB_NA,
                 cfg.INA226_CONFIG)
    assert (ina.read_manufacturer(), ina.read_die_id()) == (0x5449, 0x2260)
    sht = SHT31(board.i2c, cfg.ADDR_SHT31)
    sht.command(CMD_READ_STATUS)
    assert sht.read_words(1) == STATUS_AFTER_RESET
    sht.command(CMD_READ_SERIAL)
    assert sht.read_words(2) == SERIAL
    sht.command(0x3041)  # clear status: the reset flag goes
    sht.command(CMD_READ_STATUS)
    assert sht.read_words(1) == 0
    ads = ADS1115(board.i2c, cfg.ADDR_ADS1115)
    ads.write_config(0x4583)
    assert ads.read_config() == 0xC583  # idle: OS reads 1
    """)


def test_a_register_chip_nacks_the_conversion_register_write():
    run_both("""
    bench, board = fixed_board()
    expect_oserror(lambda: board.i2c.writeto_mem(cfg.ADDR_ADS1115, 0, b"\\x00\\x01"), 5)
    """)


def test_output_pins_drive_the_bench_and_start_safe():
    run_both("""
    bench, board = fixed_board()
    assert bench.relay == 0 and bench.laser == 0 and bench.shutter_open is False
    assert board.relay.value() == 0 and board.shutter.value() == 1 - cfg.SHUTTER_OPEN_LEVEL
    board.relay.value(1)
    board.laser.value(1)
    board.shutter.value(cfg.SHUTTER_OPEN_LEVEL)
    assert bench.relay == 1 and bench.laser == 1 and bench.shutter_open is True
    """)


def test_shutter_closed_input_follows_the_bench_switch():
    run_both("""
    bench, board = fixed_board()
    assert board.shutter_closed.value() == 1
    bench.closed = False
    board.sleep_us(10)
    assert board.shutter_closed.value() == 0
    expect_oserror(lambda: board.shutter_closed.value(1), 1)
    """)


def test_interlock_is_closed_by_default_and_settable():
    run_both("""
    bench, board = fixed_board()
    assert board.interlock.value() == 1
    board.interlock.value(0)
    assert board.interlock.value() == 0
    """)


def test_interlock_control_file_is_polled_even_when_replaced(tmp_path):
    path = tmp_path / "interlock"
    path.write_text("1\n")
    run_both(f"""
    import os
    from hil_sim.gpio import ControlFilePin
    from hil_sim import clock as clocks
    path = {str(path)!r}
    pin = ControlFilePin(path, 0, clocks.link_ms, clocks.link_diff, period_ms=1)
    assert pin.value() == 1
    with open(path + ".tmp", "w") as f:
        f.write("0\\n")
    os.rename(path + ".tmp", path)
    deadline = clocks.link_ms() + 2000
    while pin.value() != 0:
        assert clocks.link_diff(deadline, clocks.link_ms()) > 0, "never saw the open loop"
    with open(path, "w") as f:
        f.write("1\\n")
    while pin.value() != 1:
        assert clocks.link_diff(deadline, clocks.link_ms()) > 0, "never saw the closed loop"
    """)
