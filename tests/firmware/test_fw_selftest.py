"""The board self-test (SELF_TEST -> SELF_TEST_RESULT) on the real firmware and simulated chips:
every check on a healthy board, each broken chip named, the outputs safe whatever happens,
refused during a run; a missing chip at boot is reported and the device still comes up."""

import json

import pytest

from hil_sim.gpio import SimPin
from lumenfw import board_config
from protocol import messages, schema
from tests.support.fw_harness import Bed, pd_amps_per_cd_m2
from tests.support.mpy import run_micropython

QUICK_CHECKS = [schema.CHK_I2C_SCAN, schema.CHK_INA226_MANUFACTURER, schema.CHK_INA226_DIE,
                schema.CHK_SHT31_STATUS, schema.CHK_SHT31_SERIAL, schema.CHK_DAC_READBACK,
                schema.CHK_ADS1115_CONFIG, schema.CHK_INTERLOCK, schema.CHK_SUPPLY_OFFSET]
SHUTTER_CHECKS = [schema.CHK_SHUTTER_OPEN, schema.CHK_SHUTTER_CLOSE]
DARK_CHECKS = [schema.CHK_DARK_RANGE + i for i in range(len(board_config.PD_RANGES))]
FULL_CHECKS = QUICK_CHECKS + SHUTTER_CHECKS + DARK_CHECKS
RECORD_NAMES = [f[0] for f in schema.SELFTEST_FIELDS]
HEAD_NAMES = messages.field_names(schema.SELF_TEST_RESULT)


def _self_test(bed, scope=schema.SELFTEST_FULL, channel=0):
    """(reply msg_id, head dict, {check: record dict}) of one SELF_TEST."""
    since = len(bed.messages)
    msg_id, head = bed.command(schema.SELF_TEST, (channel, scope))
    if msg_id != schema.SELF_TEST_RESULT:
        return msg_id, dict(zip(messages.field_names(msg_id), head)), {}
    tail = next(t for m, h, t in bed.messages[since:] if m == msg_id and h[0] == head[0])
    records = [dict(zip(RECORD_NAMES, r)) for r in tail]
    return msg_id, dict(zip(HEAD_NAMES, head)), {r["check"]: r for r in records}


def _outputs_safe(bed):
    board = bed.board
    closed_level = 1 - board.config.SHUTTER_OPEN_LEVEL
    return (board.relay.value(), board.laser.value(), board.shutter.value(),
            board.dac.code) == (0, 0, closed_level, 0)


def _bed(**options):
    bed = Bed(accel=None, **options)
    bed.hello()
    return bed


def test_a_healthy_board_passes_every_check_of_the_full_self_test():
    bed = _bed()
    msg_id, head, records = _self_test(bed)
    assert msg_id == schema.SELF_TEST_RESULT
    assert (head["scope"], head["failed"], head["fault"]) == (schema.SELFTEST_FULL, 0, 0)
    assert list(records) == FULL_CHECKS
    failed = {c: r for c, r in records.items() if r["state"] != schema.CHECK_PASS}
    assert failed == {}
    assert records[schema.CHK_INA226_MANUFACTURER]["value"] == 0x5449
    assert records[schema.CHK_INA226_DIE]["value"] == 0x2260
    assert records[schema.CHK_I2C_SCAN]["value"] == 0xF
    assert 50 <= records[schema.CHK_SHUTTER_OPEN]["value"] <= board_config.SHUTTER_TIMEOUT_MS
    assert 50 <= records[schema.CHK_SHUTTER_CLOSE]["value"] <= board_config.SHUTTER_TIMEOUT_MS
    assert _outputs_safe(bed) and bed.ctrl.state == schema.STATE_IDLE


def test_the_quick_self_test_moves_nothing():
    driven = []

    def watch_shutter(board):
        pin = board.shutter
        board.shutter = SimPin(pin.value(), lambda level: (driven.append(level), pin.value(level)))

    bed = _bed(before_device=watch_shutter)
    _, head, records = _self_test(bed, schema.SELFTEST_QUICK)
    assert head["scope"] == schema.SELFTEST_QUICK and head["failed"] == 0
    assert list(records) == QUICK_CHECKS
    assert driven == []  # the shutter never moved


def test_a_self_test_during_a_run_is_refused_busy_and_the_run_goes_on():
    bed = Bed(accel=100)
    bed.hello()
    bed.start_run(run_key=77, sample_period_ms=100)
    msg_id, head, _ = _self_test(bed)
    assert (msg_id, head["code"], head["detail"]) == (schema.NACK, schema.NACK_BUSY, 77)
    assert bed.ctrl.state == schema.STATE_RUNNING and bed.board.relay.value() == 1


def test_a_manual_output_is_switched_off_by_the_self_test():
    bed = _bed()
    assert bed.command(schema.SET_OUTPUT, (0, 5000, 1))[0] == schema.ACK
    since = len(bed.messages)
    _self_test(bed, schema.SELFTEST_QUICK)
    assert _outputs_safe(bed)
    assert schema.EV_OUTPUT_OFF in bed.event_codes(since)


@pytest.mark.parametrize("chip, failing, detail", [
    ("sht31", {schema.CHK_I2C_SCAN, schema.CHK_SHT31_STATUS, schema.CHK_SHT31_SERIAL},
     schema.DETAIL_NO_ANSWER),
    ("mcp4725", {schema.CHK_I2C_SCAN, schema.CHK_DAC_READBACK}, schema.DETAIL_NO_ANSWER),
    ("ads1115", {schema.CHK_I2C_SCAN, schema.CHK_ADS1115_CONFIG} | set(DARK_CHECKS),
     schema.DETAIL_NO_ANSWER),
])
def test_a_missing_chip_fails_the_checks_that_need_it_as_no_answer(chip, failing, detail):
    bed = _bed(chip_faults={chip: "missing"})
    _, head, records = _self_test(bed)
    failed = {c for c, r in records.items() if r["state"] == schema.CHECK_FAIL}
    assert failed == failing and head["failed"] == len(failing)
    assert {records[c]["detail"] for c in failing - {schema.CHK_I2C_SCAN}} == {detail}
    assert {records[c]["value"] for c in failing - {schema.CHK_I2C_SCAN}} == {19}  # ENODEV
    assert _outputs_safe(bed)


def test_the_scan_names_the_chip_that_does_not_answer():
    bed = _bed(chip_faults={"sht31": "missing"})
    scan = _self_test(bed, schema.SELFTEST_QUICK)[2][schema.CHK_I2C_SCAN]
    assert scan["value"] == 0xF & ~schema.I2C_BIT_SHT31 and scan["high"] == 0xF


def test_a_stuck_ina226_fails_its_identity_with_the_constant_it_reads():
    bed = _bed(chip_faults={"ina226": "stuck"})
    assert bed.ctrl.state == schema.STATE_FAULT  # its setup at boot found no TI part
    _, head, records = _self_test(bed)
    assert records[schema.CHK_INA226_MANUFACTURER]["value"] == 0xFFFF
    assert records[schema.CHK_INA226_DIE]["value"] == 0xFFFF
    failed = {c for c, r in records.items() if r["state"] == schema.CHECK_FAIL}
    assert failed == {schema.CHK_INA226_MANUFACTURER, schema.CHK_INA226_DIE}
    assert bed.ctrl.state == schema.STATE_FAULT and _outputs_safe(bed)


def test_a_stuck_sht31_fails_its_crc():
    bed = _bed(chip_faults={"sht31": "stuck"})
    records = _self_test(bed, schema.SELFTEST_QUICK)[2]
    for check in (schema.CHK_SHT31_STATUS, schema.CHK_SHT31_SERIAL):
        assert (records[check]["state"], records[check]["detail"]) == (
            schema.CHECK_FAIL, schema.DETAIL_CRC)


def test_a_stuck_ads1115_fails_its_config_read_back():
    bed = _bed(chip_faults={"ads1115": "stuck"})
    record = _self_test(bed, schema.SELFTEST_QUICK)[2][schema.CHK_ADS1115_CONFIG]
    assert record["state"] == schema.CHECK_FAIL and record["value"] == 0xFFFF


def test_the_sht31_checks_wait_out_a_measurement_in_flight():
    bed = _bed()
    bed.run_until(lambda: bed.device.sampler._ambient_pending, what="an ambient measurement")
    records = _self_test(bed, schema.SELFTEST_QUICK)[2]
    assert records[schema.CHK_SHT31_STATUS]["state"] == schema.CHECK_PASS
    assert records[schema.CHK_SHT31_SERIAL]["state"] == schema.CHECK_PASS
    bed.run_until(lambda: bed.device.sampler.temperature_cc != 0, what="ambient readings again")


def test_a_shutter_that_never_opens_fails_and_ends_driven_closed_with_the_watchdog_fed():
    feeds_us = []

    def stick_and_watch(board):
        board.shutter_closed = SimPin(1)  # the switch never releases
        feed = board.feed_watchdog

        def counted():
            feeds_us.append(board.clock.now_us())
            feed()
        board.feed_watchdog = counted

    bed = _bed(before_device=stick_and_watch)
    start = len(feeds_us)
    _, head, records = _self_test(bed)
    opened, closed = records[schema.CHK_SHUTTER_OPEN], records[schema.CHK_SHUTTER_CLOSE]
    assert (opened["state"], opened["detail"]) == (schema.CHECK_FAIL, schema.DETAIL_TIMEOUT)
    assert (closed["state"], closed["detail"]) == (schema.CHECK_SKIPPED,
                                                   schema.DETAIL_NOT_AT_START)
    assert opened["value"] == board_config.SHUTTER_TIMEOUT_MS
    assert _outputs_safe(bed)
    gaps_us = [b - a for a, b in zip(feeds_us[start:], feeds_us[start + 1:])]
    assert max(gaps_us) < 100_000  # the watchdog (4 s) never waits on a check


def test_with_the_interlock_open_the_shutter_stays_put_and_the_interlock_check_fails():
    interlock = SimPin(0)
    bed = _bed(interlock=interlock)
    _, _head, records = _self_test(bed)
    assert records[schema.CHK_INTERLOCK]["state"] == schema.CHECK_FAIL
    for check in SHUTTER_CHECKS:
        assert (records[check]["state"], records[check]["detail"]) == (
            schema.CHECK_SKIPPED, schema.DETAIL_INTERLOCK_OPEN)
    assert _outputs_safe(bed)


def test_an_exception_mid_test_ends_safe_and_is_reported_in_the_head():
    bed = _bed()

    def broken(*args):
        bed.board.shutter.value(bed.board.config.SHUTTER_OPEN_LEVEL)  # left open on the way
        raise RuntimeError("a bug in a check")

    bed.device.parts.photodiode.read_range_pa = broken
    _, head, records = _self_test(bed)
    assert head["fault"] == schema.FAULT_SOFTWARE
    assert list(records) == QUICK_CHECKS + SHUTTER_CHECKS  # what ran before it
    assert _outputs_safe(bed) and bed.ctrl.state == schema.STATE_IDLE
    assert bed.command(schema.GET_STATUS, (0,))[0] == schema.STATUS  # the device goes on


def test_an_unknown_scope_is_out_of_range():
    bed = _bed()
    msg_id, head, _ = _self_test(bed, 7)
    assert (msg_id, head["code"], head["detail"]) == (schema.NACK, schema.NACK_OUT_OF_RANGE, 2)


@pytest.mark.parametrize("chip, address", [
    ("sht31", board_config.ADDR_SHT31), ("mcp4725", board_config.ADDR_DAC),
    ("ads1115", board_config.ADDR_ADS1115)])
def test_a_missing_chip_at_boot_is_reported_and_the_device_comes_up_idle_and_safe(chip, address):
    bed = Bed(accel=None, chip_faults={chip: "missing"})
    assert (schema.EV_I2C_ERROR, address) in [(e[0], e[1]) for e in bed.events()]
    assert bed.ctrl.state == schema.STATE_IDLE and _outputs_safe(bed)
    assert bed.hello()[1] == schema.SCHEMA_HASH


def test_a_missing_ina226_at_boot_faults_the_device_safe_naming_its_address():
    bed = Bed(accel=None, chip_faults={"ina226": "missing"})
    events = [(e[0], e[1]) for e in bed.events()]
    assert (schema.EV_EXCEPTION, schema.FAULT_I2C) in events
    assert (schema.EV_I2C_ERROR, board_config.ADDR_INA226) in events
    assert bed.ctrl.state == schema.STATE_FAULT and _outputs_safe(bed)
    [channel] = bed.hello_ack()[1]
    assert channel["state"] == schema.STATE_FAULT  # the host sees it at once
    records = _self_test(bed, schema.SELFTEST_QUICK)[2]
    assert records[schema.CHK_INA226_MANUFACTURER]["detail"] == schema.DETAIL_NO_ANSWER


_VM_SCRIPT = """
import json
from hil_sim.board import SimBoard
from hil_sim.physics.bench import Bench
from lumenfw.device import Device
from protocol import messages, schema


class Link:
    def read_into(self, buf):
        return 0

    def write(self, buf, n):
        pass


out = {}
for faults in ({}, {"sht31": "stuck"}, {"ina226": "missing"}):
    board = SimBoard(Bench("G1", 1, PD), accel=None, link=Link(), chip_faults=faults)
    device = Device(board)
    device.boot()
    body = device.link._commands.execute(schema.SELF_TEST, (9, 0, schema.SELFTEST_FULL))[1]
    head, records = messages.unpack(schema.SELF_TEST_RESULT, body)
    out[",".join(faults) or "healthy"] = [list(head), [list(r) for r in records],
                                          board.relay.value(), board.shutter.value()]
print(json.dumps(out))
"""


@pytest.mark.micropython
def test_the_self_test_runs_on_the_micropython_vm_as_on_cpython():
    done = run_micropython(_VM_SCRIPT.replace("PD", repr(pd_amps_per_cd_m2("G1"))),
                           timeout_s=120)
    assert done.returncode == 0, done.stderr.decode() + done.stdout.decode()
    results = json.loads(done.stdout.decode().strip().splitlines()[-1])
    head, records, relay, shutter = results["healthy"]
    assert head == [9, 0, schema.SELFTEST_FULL, 0, 0] and len(records) == len(FULL_CHECKS)
    assert (relay, shutter) == (0, 1 - board_config.SHUTTER_OPEN_LEVEL)
    sht = {r[0]: r for r in results["sht31"][1]}
    assert sht[schema.CHK_SHT31_SERIAL][1:3] == [schema.CHECK_FAIL, schema.DETAIL_CRC]
    ina = {r[0]: r for r in results["ina226"][1]}
    assert ina[schema.CHK_INA226_DIE][1:4] == [schema.CHECK_FAIL, schema.DETAIL_NO_ANSWER, 19]
    assert results["ina226"][0][4] == 0  # no exception: a missing chip is a failed check
