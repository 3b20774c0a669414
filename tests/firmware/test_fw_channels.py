"""The firmware on a board of channel cards (#16): a controller per channel side by side on
one loop, each with its own run, seq stream and resend ring; a compliance trip or a card that
stops answering is its channel's alone, the interlock and a card whose relay will not open
stop every channel (real firmware and physics on the simulated board, CPython)."""

from protocol import messages, schema
from tests.support.fw_harness import Bed

CHANNELS = 3
_EVENT = messages.field_names(schema.EVENT)
_STATUS = messages.field_names(schema.STATUS)
_RECORD = [f[0] for f in schema.CHANNEL_FIELDS]
RUN_KEYS = (101, 102, 103)  # channel n's run


def _bed(**options):
    bed = Bed(channels=CHANNELS, accel=None, **options)
    bed.hello()
    return bed


def _start_all(bed, per_channel=None, **fields):
    """A CV run on every channel (run key RUN_KEYS[n]); fields change every run,
    per_channel {channel: fields} one."""
    for channel, run_key in enumerate(RUN_KEYS):
        run = {"setpoint_mv": 8000, "sample_period_ms": 100, "max_duration_s": 3}
        run.update(fields)
        run.update((per_channel or {}).get(channel, {}))
        reply = bed.start_run(run_key=run_key, channel=channel, **run)
        assert reply[0] == schema.ACK, (channel, reply)


def _events(bed):
    """Every EVENT head as a dict."""
    return [dict(zip(_EVENT, head)) for head in bed.of(schema.EVENT)]


def _stops(bed):
    """{channel: stop reason} of the EV_RUN_STOPPED events."""
    return {e["channel"]: e["value"] for e in _events(bed) if e["code"] == schema.EV_RUN_STOPPED}


def _batches(bed):
    """(run_key, channel, records) of every live SAMPLE_BATCH."""
    return [(head[0], head[1], tail) for mid, head, tail in bed.messages
            if mid == schema.SAMPLE_BATCH and not head[2] & schema.BATCH_RESENT]


def _status(bed, channel):
    mid, head = bed.command(schema.GET_STATUS, (channel,))
    assert mid == schema.STATUS
    return dict(zip(_STATUS, head))


def _all_idle(bed):
    return all(ctrl.state != schema.STATE_RUNNING for ctrl in bed.device.ctrls)


def _lit(bed, channel):
    return bed.board.cards[channel].source.dut_current_a() > 0


def test_hello_ack_and_heartbeats_name_every_channel_and_what_it_can_do():
    bed = Bed(channels=CHANNELS, accel=None)
    _head, records = bed.hello_ack()
    assert [r["channel"] for r in records] == list(range(CHANNELS))
    assert records[0]["can"] & schema.CAN_LASER, "the laser points at channel 0"
    assert all(r["can"] & schema.CAN_DRIVE and r["can"] & schema.CAN_PHOTODIODE
               and not r["can"] & schema.CAN_LASER for r in records[1:])
    bed.run_until(lambda: bed.of(schema.HEARTBEAT), what="a heartbeat")
    mid, _head, tail = next(m for m in bed.messages if m[0] == schema.HEARTBEAT)
    assert [dict(zip(_RECORD, r))["channel"] for r in tail] == list(range(CHANNELS))


def test_runs_on_every_channel_go_side_by_side_each_with_its_own_seq_stream_and_pixel():
    bed = _bed()
    _start_all(bed)
    bed.run_until(lambda: all(_lit(bed, n) for n in range(CHANNELS)), what="all lit")
    bed.device.link.heartbeat(bed.board.link_ms())  # (one now: they come every wall 500 ms)
    _m, _h, tail = [m for m in bed.messages if m[0] == schema.HEARTBEAT][-1]
    assert [(r["channel"], r["state"], r["run_key"]) for r in (dict(zip(_RECORD, t)) for t in tail)
            ] == [(n, schema.STATE_RUNNING, RUN_KEYS[n]) for n in range(CHANNELS)]
    bed.run_until(lambda: _all_idle(bed), what="the three runs to end")
    assert _stops(bed) == {n: schema.STOP_MAX_DURATION for n in range(CHANNELS)}
    last_pa = []
    for channel, run_key in enumerate(RUN_KEYS):
        mine = [b for b in _batches(bed) if b[0] == run_key]
        assert mine and all(b[1] == channel for b in mine), "a run's batches name its channel"
        samples = [dict(zip(schema.SAMPLE_NAMES, r)) for b in mine for r in b[2]]
        assert [s["seq"] for s in samples] == list(range(len(samples))), "no gap, no repeat"
        assert len(samples) >= 25, len(samples)  # 3 s at 100 ms, after the climb
        assert all(abs(s["voltage_mv"] - 8000) < 80 for s in samples[2:])
        assert _status(bed, channel)["run_key"] == run_key
        last_pa.append(samples[-1]["pd_pa"])
    # Each channel's light is its own pixel's: pixels alike (spread 0) at 8 V read alike.
    assert min(last_pa) > 0.9 * max(last_pa) > 0, last_pa


def test_a_compliance_trip_stops_its_channel_alone():
    bed = _bed()
    _start_all(bed, {1: {"compliance_na": 1000}})  # channel 1 draws far more at 8 V
    bed.run_until(lambda: 1 in _stops(bed), what="channel 1 to trip")
    tripped = [e for e in _events(bed) if e["code"] == schema.EV_COMPLIANCE]
    assert [e["channel"] for e in tripped] == [1]
    assert _stops(bed) == {1: schema.STOP_COMPLIANCE}
    assert not _lit(bed, 1)
    counts = {n: bed.device.ctrls[n].next_seq for n in (0, 2)}
    bed.run_until(lambda: all(bed.device.ctrls[n].next_seq >= counts[n] + 5 for n in (0, 2)),
                  what="channels 0 and 2 to sample on")
    assert _lit(bed, 0) and _lit(bed, 2)
    assert bed.device.ctrls[0].state == bed.device.ctrls[2].state == schema.STATE_RUNNING


def test_the_interlock_stops_every_channel_in_one_pass():
    from tests.firmware.test_fw_safety import PinOpeningAt

    pin = PinOpeningAt(at_us=10**12)
    bed = _bed(interlock=pin)
    pin.clock = bed.board.clock
    _start_all(bed, max_duration_s=60)
    bed.run_until(lambda: all(bed.device.ctrls[n].next_seq >= 3 for n in range(CHANNELS)),
                  what="samples on every channel")
    pin.at_us = bed.board.clock.now_us()
    bed.step()
    assert _stops(bed) == {n: schema.STOP_INTERLOCK for n in range(CHANNELS)}
    assert bed.board.relay.value() == 0, "the cards' enable is down"
    assert not any(_lit(bed, n) for n in range(CHANNELS))
    assert all(card.dac.code == 0 for card in bed.board.cards)


def test_a_card_that_stops_answering_faults_its_channel_alone():
    bed = _bed()
    _start_all(bed, max_duration_s=60)
    bed.run_until(lambda: all(bed.device.ctrls[n].next_seq >= 3 for n in range(CHANNELS)),
                  what="samples on every channel")
    bed.board.cards[2].bus.fail(bed.board.config.ADDR_INA226)  # its meter is gone
    bed.run_until(lambda: 2 in _stops(bed), what="channel 2 to fault")
    assert _stops(bed) == {2: schema.STOP_I2C_FAULT}
    assert bed.device.ctrls[2].state == schema.STATE_FAULT
    assert not _lit(bed, 2), "its relay opened (the expander still answers)"
    counts = [ctrl.next_seq for ctrl in bed.device.ctrls]
    bed.run_until(lambda: all(bed.device.ctrls[n].next_seq >= counts[n] + 5 for n in (0, 1)),
                  what="channels 0 and 1 to sample on")
    assert _lit(bed, 0) and _lit(bed, 1)
    mid, head = bed.start_run(run_key=7, channel=2)
    assert mid == schema.NACK and head[2] == schema.NACK_FAULTED


def test_a_card_whose_relay_will_not_open_stops_every_channel_for_good():
    bed = _bed()
    _start_all(bed, max_duration_s=60)
    bed.run_until(lambda: all(bed.device.ctrls[n].next_seq >= 3 for n in range(CHANNELS)),
                  what="samples on every channel")
    bed.board.cards[1].bus.fail(bed.board.config.ADDR_INA226)
    bed.board.cards[1].bus.fail(bed.board.config.ADDR_CARD_IO)  # its relay cannot be written
    bed.run_until(lambda: _all_idle(bed), what="every channel to stop")
    assert _stops(bed) == {n: schema.STOP_I2C_FAULT for n in range(CHANNELS)}
    assert bed.board.relay.value() == 0
    assert not any(_lit(bed, n) for n in range(CHANNELS)), "the enable opened card 1's relay"
    bed.command(schema.STOP_RUN, (0, 0))  # the host clears channel 0's fault
    mid, head = bed.start_run(run_key=8, channel=0)
    assert (mid, head[2]) == (schema.NACK, schema.NACK_FAULTED), "the enable stays cut"
    assert bed.board.relay.value() == 0


def test_photostability_goes_only_where_the_laser_points_and_a_missing_channel_is_named():
    from lumenfw import runprogram

    bed = _bed()
    mid, head = bed.start_run(run_key=5, channel=1, mode=schema.MODE_PHOTOSTABILITY,
                              setpoint_mv=0, pl_interval_s=10, laser=1)
    assert (mid, head[2], head[3]) == (schema.NACK, schema.NACK_OUT_OF_RANGE, runprogram.F_MODE)
    mid, head = bed.start_run(run_key=6, channel=CHANNELS)
    assert (mid, head[2], head[3]) == (schema.NACK, schema.NACK_OUT_OF_RANGE,
                                       runprogram.F_CHANNEL)


def test_resend_answers_from_the_channels_own_ring():
    bed = _bed()
    _start_all(bed)
    bed.run_until(lambda: _all_idle(bed), what="the three runs to end")
    mid, head = bed.command(schema.RESEND, (RUN_KEYS[1], 1, 0, 4))
    assert mid == schema.ACK, head
    resent = [(h[0], h[1], r[0]) for m, h, tail in bed.messages
              if m == schema.SAMPLE_BATCH and h[2] & schema.BATCH_RESENT for r in tail]
    assert resent == [(RUN_KEYS[1], 1, seq) for seq in range(5)]
    mid, head = bed.command(schema.RESEND, (RUN_KEYS[0], 1, 0, 4))
    assert (mid, head[2], head[3]) == (schema.NACK, schema.NACK_BAD_RUN_KEY, RUN_KEYS[1])


CARD_BITS = (schema.I2C_BIT_MUX | schema.I2C_BIT_DAC | schema.I2C_BIT_INA226
             | schema.I2C_BIT_ADS1115 | schema.I2C_BIT_CARD_IO)


def test_the_self_test_checks_the_rig_with_the_lasers_channel_and_each_card_with_its_own():
    from tests.firmware.test_fw_selftest import DARK_CHECKS, FULL_CHECKS, _self_test

    bed = _bed()
    msg_id, head, records = _self_test(bed, channel=0)
    assert msg_id == schema.SELF_TEST_RESULT and head["channel"] == 0
    assert (head["failed"], head["fault"]) == (0, 0), records
    assert list(records) == FULL_CHECKS
    scan = records[schema.CHK_I2C_SCAN]
    assert scan["value"] == scan["high"] == CARD_BITS | schema.I2C_BIT_SHT31
    msg_id, head, records = _self_test(bed, channel=2)
    assert (head["channel"], head["failed"], head["fault"]) == (2, 0, 0), records
    assert list(records) == [schema.CHK_I2C_SCAN, schema.CHK_INA226_MANUFACTURER,
                             schema.CHK_INA226_DIE, schema.CHK_DAC_READBACK,
                             schema.CHK_ADS1115_CONFIG, schema.CHK_SUPPLY_OFFSET] + DARK_CHECKS
    assert records[schema.CHK_I2C_SCAN]["value"] == CARD_BITS  # card 2 joined on the mux
    msg_id, head = bed.command(schema.SELF_TEST, (CHANNELS, schema.SELFTEST_QUICK))
    assert (msg_id, head[2]) == (schema.NACK, schema.NACK_OUT_OF_RANGE), "no such channel"
    assert bed.board.relay.value() == 0 and not any(_lit(bed, n) for n in range(CHANNELS))
    _start_all(bed)
    msg_id, head = bed.command(schema.SELF_TEST, (1, schema.SELFTEST_QUICK))
    assert (msg_id, head[2]) == (schema.NACK, schema.NACK_BUSY), "not while a channel runs"


def test_a_card_dead_at_boot_faults_its_channel_alone_and_its_self_test_names_its_chips():
    from tests.firmware.test_fw_selftest import _self_test

    bed = _bed(before_device=lambda board: board.cards[2].fail_at(device_us=0))
    assert [_status(bed, n)["state"] for n in range(CHANNELS)] == [
        schema.STATE_IDLE, schema.STATE_IDLE, schema.STATE_FAULT]
    reply = bed.start_run(run_key=RUN_KEYS[2], channel=2, setpoint_mv=8000,
                          sample_period_ms=100, max_duration_s=3)
    assert (reply[0], reply[1][2]) == (schema.NACK, schema.NACK_FAULTED), reply
    _msg_id, head, records = _self_test(bed, schema.SELFTEST_QUICK, channel=2)
    scan = records[schema.CHK_I2C_SCAN]
    assert (scan["value"], scan["high"]) == (
        schema.I2C_BIT_MUX | schema.I2C_BIT_CARD_IO, CARD_BITS), "the card's chips are gone"
    manufacturer = records[schema.CHK_INA226_MANUFACTURER]
    assert (manufacturer["state"], manufacturer["detail"]) == (
        schema.CHECK_FAIL, schema.DETAIL_NO_ANSWER)
    assert head["failed"] >= 5 and head["fault"] == 0
    _msg_id, head, _records = _self_test(bed, schema.SELFTEST_QUICK, channel=1)
    assert head["failed"] == 0, "card 1 is sound"
    assert bed.start_run(run_key=RUN_KEYS[1], channel=1, setpoint_mv=8000,
                         sample_period_ms=100, max_duration_s=3)[0] == schema.ACK


def test_a_run_beyond_the_sampling_budget_of_every_channel_is_refused():
    from lumenfw import budget, runprogram
    from lumenfw.drivers.ads1115 import RATE_SPS

    bed = _bed()
    config = bed.board.config
    least_ms = budget.min_period_ms(16, CHANNELS, config.I2C_FREQ_HZ,
                                    RATE_SPS[config.ADS_PD_RATE_INDEX])
    assert least_ms > budget.min_period_ms(16, 1, config.I2C_FREQ_HZ,
                                           RATE_SPS[config.ADS_PD_RATE_INDEX])
    mid, head = bed.start_run(run_key=9, channel=2, oversample=16, sample_period_ms=least_ms - 1)
    assert (mid, head[2], head[3]) == (schema.NACK, schema.NACK_OUT_OF_RANGE,
                                       runprogram.F_PERIOD)
    mid, _head = bed.start_run(run_key=9, channel=2, oversample=16, sample_period_ms=least_ms)
    assert mid == schema.ACK

