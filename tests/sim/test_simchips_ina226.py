"""Simulated INA226 at register level: averaging period, conversion-ready flag, reset, modes."""

import pytest

from tests.support.drivers import run_both

pytestmark = pytest.mark.micropython

_MAKE = """
from hil_sim.chips.ina226 import SimINA226
bench = FixedBench()
source = ManualSource(bench)
clock = ManualClock()
chip = SimINA226(source, clock, cfg.SHUNT_MOHM)
i2c = SimI2C()
i2c.attach(0x40, chip)
buf = bytearray(2)

def reg(ptr):
    i2c.readfrom_mem_into(0x40, ptr, buf)
    return (buf[0] << 8) | buf[1]

def write(ptr, value):
    i2c.writeto_mem(0x40, ptr, bytes([value >> 8, value & 0xFF]))
"""


def test_power_on_registers_match_the_datasheet():
    run_both(_MAKE, """
    assert reg(0x00) == 0x4127
    assert reg(0x05) == 0
    assert reg(0xFE) == 0x5449 and reg(0xFF) == 0x2260
    """)


def test_results_change_once_per_averaging_period():
    run_both(_MAKE, """
    write(0x00, cfg.INA226_CONFIG)  # AVG 4, 1.1 ms + 1.1 ms
    assert chip.period_us() == 4 * (1100 + 1100)
    bench.voltage_v = 5.0
    source.moved()
    clock.t_us = 8799
    assert reg(0x02) == 0  # the first average is not done yet
    clock.t_us = 8800
    assert reg(0x02) == 4000  # 5 V / 1.25 mV
    bench.voltage_v = 6.0
    source.moved()
    clock.t_us = 8800 + 8799
    assert reg(0x02) == 4000  # holds the last completed average
    clock.t_us = 2 * 8800
    assert reg(0x02) == 4800
    """)


def test_averaging_setting_scales_the_period():
    run_both(_MAKE, """
    write(0x00, 0x4000 | (0b011 << 9) | (0b100 << 6) | (0b100 << 3) | 0b111)  # AVG 64
    assert chip.period_us() == 64 * 2200
    write(0x00, 0x4000 | (0b000 << 9) | (0b000 << 6) | (0b000 << 3) | 0b101)  # AVG 1, shunt only
    assert chip.period_us() == 140
    """)


def test_conversion_ready_flag_sets_and_clears_on_read():
    run_both(_MAKE, """
    write(0x00, cfg.INA226_CONFIG)
    clock.t_us = 8800
    assert reg(0x06) & 0x0008
    assert not reg(0x06) & 0x0008
    """)


def test_shunt_and_current_registers_are_twos_complement():
    run_both(_MAKE, """
    write(0x00, cfg.INA226_CONFIG)
    write(0x05, 2048)
    bench.current_a = -1e-3  # -20 mV across 20 ohm = -8000 LSB of 2.5 uV
    source.moved()
    clock.t_us = 8800
    assert reg(0x01) == (-8000) & 0xFFFF
    assert reg(0x04) == (-8000) & 0xFFFF  # CAL 2048: current = shunt * 2048 / 2048
    """)


def test_reset_bit_restores_defaults():
    run_both(_MAKE, """
    write(0x05, 2048)
    write(0x00, 0x8000)
    assert reg(0x05) == 0 and reg(0x00) == 0x4127
    """)


def test_power_down_mode_holds_the_registers():
    run_both(_MAKE, """
    write(0x00, cfg.INA226_CONFIG)
    bench.voltage_v = 2.5
    source.moved()
    clock.t_us = 8800
    assert reg(0x02) == 2000
    write(0x00, (cfg.INA226_CONFIG & ~0x7) | 0x0)
    bench.voltage_v = 9.0
    source.moved()
    clock.t_us = 100_000
    assert reg(0x02) == 2000
    """)


_ON_THE_BENCH = """
from hil_sim.chips.ina226 import SimINA226
from hil_sim.chips.source import BenchSource
from hil_sim.physics.bench import Bench

def bus_after_a_step(read_before_the_step):
    '''Bus register after a setpoint step that comes 300 us after a conversion ended,
    with the supply still slewing from 0 to 10 V (1 V/ms).'''
    clock = ManualClock()
    source = BenchSource(Bench('G1', 3, 9.07e-10), clock)
    chip = SimINA226(source, clock, cfg.SHUNT_MOHM)
    chip.write_register(0x00, cfg.INA226_CONFIG)
    source.set_output_relay(1)
    source.set_supply_setpoint_v(10.0)
    clock.t_us = chip.period_us() + 300
    if read_before_the_step:
        chip.read_register(0x02)
    source.set_supply_setpoint_v(4.0)
    clock.t_us = chip.period_us() + 600  # the next conversion is not done yet
    return chip.read_register(0x02)
"""


def test_a_finished_conversion_keeps_the_bench_it_measured_across_an_input_change():
    """The result of a conversion that ended before an input change does not depend on
    whether the firmware read it before the change (a host command that woke the board
    must not move a reading)."""
    run_both(_MAKE + _ON_THE_BENCH, """
    read_early = bus_after_a_step(True)
    read_late = bus_after_a_step(False)
    assert read_early == read_late, (read_early, read_late)
    assert read_early == 7040, read_early  # 8.8 V at the conversion's end (8800 us)
    """)


_ALERTING = _MAKE + """
write(0x00, cfg.INA226_CONFIG)  # one result per 8.8 ms
write(0x05, 2048)
write(0x07, 3999)  # 3999 LSB of 2.5 uV: ALERT on a result over 9.9975 mV (500 uA in 20 ohm)
write(0x06, 0x8001)  # SOL, latched
bench.relay = 1
"""


def test_alert_latches_on_the_first_result_over_the_limit_until_mask_enable_is_read():
    run_both(_ALERTING, """
    bench.current_a = 499.9e-6
    source.moved()
    clock.t_us = 8800
    assert chip.alert_released()
    bench.current_a = 500e-6  # 4000 LSB: over the limit register's 3999
    source.moved()
    clock.t_us = 2 * 8800 - 1
    assert chip.alert_released()  # only a finished result can alert
    clock.t_us = 2 * 8800
    assert not chip.alert_released()
    bench.current_a = 0.0  # the current falls: a latched alert holds
    source.moved()
    clock.t_us = 3 * 8800
    assert not chip.alert_released()
    assert reg(0x06) & 0x0010  # the alert function flag, read: the latch clears
    assert chip.alert_released() and not reg(0x06) & 0x0010
    """)


def test_transparent_alert_follows_each_result_and_no_function_means_no_alert():
    run_both(_ALERTING, """
    write(0x06, 0x8000)  # SOL, not latched
    bench.current_a = 600e-6
    source.moved()
    clock.t_us = 8800
    assert not chip.alert_released()
    bench.current_a = 100e-6
    source.moved()
    clock.t_us = 2 * 8800
    assert chip.alert_released()
    write(0x06, 0)
    bench.current_a = 600e-6
    source.moved()
    clock.t_us = 3 * 8800
    assert chip.alert_released()
    """)


def test_alert_due_names_the_conversion_whose_result_will_alert():
    run_both(_ALERTING, """
    # The current rises by 12.5 nA per us until 50 ms, then stays: 500 uA is reached at
    # 40 ms, so the result that ends at 5 x 8.8 = 44 ms is the first over the limit.
    bench.settled_s = 0.050
    bench.current_at = lambda t_us: 12.5e-9 * min(t_us, 50_000)
    assert chip.alert_due_us(0, 1_000_000) == 5 * 8800
    assert chip.alert_due_us(0, 5 * 8800 - 1) == -1  # not within the wait
    assert chip.alert_due_us(5 * 8800, 1_000_000) == 6 * 8800  # the next one, strictly after
    # Below the limit once the rise is over: no result is looked at past the first after it.
    bench.current_at = lambda t_us: 400e-6 if t_us < 100_000 else 900e-6
    assert chip.alert_due_us(0, 1_000_000) == -1
    bench.relay = 0  # no output: no current to alert on
    bench.current_at = lambda t_us: 900e-6
    assert chip.alert_due_us(0, 1_000_000) == -1
    bench.relay = 1
    write(0x06, 0)  # no alert function
    assert chip.alert_due_us(0, 1_000_000) == -1
    """)


def test_once_quiet_the_look_ahead_waits_for_an_input_or_register_change():
    run_both(_ALERTING, """
    bench.settled_s = 0.010
    bench.current_at = lambda t_us: 400e-6  # settled below the limit: quiet from here on
    assert chip.alert_due_us(0, 1_000_000) == -1
    bench.current_at = lambda t_us: 900e-6  # (no input changed: the model says it cannot)
    assert chip.alert_due_us(0, 1_000_000) == -1
    source.inputs += 1  # an input changed: looked at again
    assert chip.alert_due_us(0, 1_000_000) == 8800
    bench.current_at = lambda t_us: 400e-6
    source.inputs += 1
    assert chip.alert_due_us(0, 1_000_000) == -1
    bench.current_at = lambda t_us: 900e-6
    write(0x07, 3999)  # the limit written again: looked at again
    assert chip.alert_due_us(0, 1_000_000) == 8800
    """)
