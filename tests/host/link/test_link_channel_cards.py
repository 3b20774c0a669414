"""Safety on a board of eight channel cards, the real firmware on the MicroPython VM behind
hil_sim's pty, driven through RigLink: a compliance trip on one channel stops that channel
alone while the other seven sample on undisturbed; with that channel running again, the
interlock stops all eight in the loop pass that sees it open."""

from typing import Any

import numpy as np
import pytest

from hil_sim.launcher import SimRig
from host.link import DeviceEvent, RigLink, SampleBatch, wire
from protocol import schema
from tests.support.rigpeer import Collector
from tests.support.waiting import wait_for

pytestmark = pytest.mark.micropython

CHANNELS = 8
TRIPPED = 3  # the channel whose run asks for a compliance far below its pixel's current
PERIOD_MS = 1000
RUN_KEYS = [0x5100 + n for n in range(CHANNELS)]  # channel TRIPPED's second run: AGAIN
AGAIN = 0x5200
# What a loop pass may emit between the interlock and the last channel's stop: the stops
# themselves, nothing a channel's own work does (a sample's L0, a dark pause, a step).
STOP_EVENTS = {schema.EV_INTERLOCK_OPEN, schema.EV_SAFE_STOP, schema.EV_RUN_STOPPED,
               schema.EV_OUTPUT_OFF, schema.EV_STATE, schema.EV_LASER_OFF,
               schema.EV_SHUTTER_CLOSED}


def _start(link: RigLink, channel: int, **overrides: int) -> None:
    fields = dict.fromkeys((f for f in wire.model_for("START_RUN").head_names
                            if f != "cmd_id"), 0)
    fields.update(run_key=RUN_KEYS[channel], channel=channel,
                  mode=schema.MODE_CONSTANT_VOLTAGE, setpoint_mv=10_000,
                  sample_period_ms=PERIOD_MS, oversample=4, max_duration_s=3600)
    fields.update(overrides)
    assert link.command("START_RUN", **fields).raise_for_error().ok, channel


def _samples(got: Collector, channel: int, run_key: int | None = None) -> np.ndarray:
    key = RUN_KEYS[channel] if run_key is None else run_key
    batches = [b.records for b in got.of(SampleBatch) if b.run_key == key]
    return np.concatenate(batches) if batches else np.zeros(0, wire.SAMPLE_DTYPE)


def _events(got: Collector) -> list[DeviceEvent]:
    return sorted(got.of(DeviceEvent), key=lambda e: e.event_seq)


def _stopped(got: Collector, channel: int, run_key: int | None = None) -> Any:
    """The RUN_STOPPED event of channel's run (run_key: another of its runs), or None."""
    key = RUN_KEYS[channel] if run_key is None else run_key
    return next((e for e in _events(got) if e.code == schema.EV_RUN_STOPPED
                 and e.run_key == key), None)


def _t_s(records: np.ndarray) -> np.ndarray:
    return records["t_s"] + records["t_us"] * 1e-6


def _check_sampled_on(records: np.ndarray, channel: int) -> None:
    """Every seq once, a sample every period after the climb, none out of compliance."""
    assert list(records["seq"]) == list(range(len(records))), channel
    steps_s = np.diff(_t_s(records[records["flags"] & schema.FLAG_RAMP == 0]))
    assert np.all(np.abs(steps_s - PERIOD_MS / 1000) < 0.05), (channel, steps_s)
    assert not np.any(records["flags"] & schema.FLAG_COMPLIANCE), channel


def test_a_compliance_trip_stops_its_channel_alone_and_the_interlock_stops_all_in_one_pass():
    rig = SimRig("G1", accel=20, seed=7, spread=0.05, channels=CHANNELS).start()
    got = Collector()
    link = RigLink("cards", rig.port)
    link.add_listener(got)
    try:
        assert link.wait_connected(30.0), rig.log_text()[-2000:]
        others = [n for n in range(CHANNELS) if n != TRIPPED]
        for channel in others:
            _start(link, channel)
        wait_for(lambda: all(len(_samples(got, n)) >= 5 for n in others), 120,
                 "five samples on each of the seven channels")
        _start(link, TRIPPED, compliance_na=1000)
        wait_for(lambda: _stopped(got, TRIPPED), 60, "the trip on channel %d" % TRIPPED)
        tripped = [e for e in _events(got) if e.code == schema.EV_COMPLIANCE]
        assert [e.run_key for e in tripped] == [RUN_KEYS[TRIPPED]]
        assert _stopped(got, TRIPPED).value == schema.STOP_COMPLIANCE
        at_trip = {n: len(_samples(got, n)) for n in others}
        wait_for(lambda: all(len(_samples(got, n)) >= at_trip[n] + 5 for n in others), 120,
                 "five more samples on each of the seven after the trip")
        for channel in others:
            status = link.command("GET_STATUS", channel=channel).message
            assert (status.state, status.run_key) == (schema.STATE_RUNNING, RUN_KEYS[channel])
            assert _stopped(got, channel) is None, channel
        _start(link, TRIPPED, run_key=AGAIN)  # a run within its compliance this time
        wait_for(lambda: len(_samples(got, TRIPPED, AGAIN)) >= 5, 60,
                 "five samples of channel %d's second run" % TRIPPED)

        rig.set_interlock(False)
        stops = {n: (TRIPPED, AGAIN) if n == TRIPPED else (n, None) for n in range(CHANNELS)}
        wait_for(lambda: all(_stopped(got, *stops[n]) for n in stops), 60, "all eight to stop")
        events = _events(got)
        opened = next(e for e in events if e.code == schema.EV_INTERLOCK_OPEN)
        last_stop = max(_stopped(got, *stops[n]).event_seq for n in stops)
        between = [e for e in events if opened.event_seq <= e.event_seq <= last_stop]
        assert {e.code for e in between} <= STOP_EVENTS, [e.name for e in between]
        assert [_stopped(got, *stops[n]).value for n in stops] == [schema.STOP_INTERLOCK] * 8
        _check_sampled_on(_samples(got, TRIPPED, AGAIN), TRIPPED)
        for channel in others:
            status = link.command("GET_STATUS", channel=channel).message
            assert status.state != schema.STATE_RUNNING, channel
            records = _samples(got, channel)
            _check_sampled_on(records, channel)
            stop = _stopped(got, channel)
            stop_t_s = stop.t_s + stop.t_us * 1e-6
            # At most a period: the pass that sees the interlock may be the one this
            # channel's sample was due in, and it stops the channel instead of sampling.
            assert 0 <= stop_t_s - _t_s(records)[-1] <= PERIOD_MS / 1000, channel
        wait_for(lambda: not link.snapshot()["flags"]["output_on"], 30,
                 "a heartbeat with every output off")
    finally:
        link.close()
        rig.stop()
