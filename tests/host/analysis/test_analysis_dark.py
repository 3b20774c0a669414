"""Dark tracking's arithmetic: pause spans from the device's events, drive time without them,
and the baseline between the pauses' mean readings."""

import numpy as np
import pytest

from host.analysis import dark
from protocol import schema

DARK = schema.FLAG_DARK


def _event(code, t_s):
    return {"code": code, "data": {"t_s": t_s, "value": 0}}


def test_pauses_pair_the_begin_and_end_events_and_an_open_pause_has_no_end():
    events = [_event(schema.EV_RUN_STARTED, 0.0), _event(schema.EV_DARK_BEGIN, 0.0),
              _event(schema.EV_DARK_END, 2.0), _event(schema.EV_OUTPUT_ON, 2.0),
              _event(schema.EV_DARK_BEGIN, 102.0), _event(schema.EV_DARK_END, 104.0),
              _event(schema.EV_DARK_BEGIN, 204.0)]
    assert dark.pauses(events) == [(0.0, 2.0), (102.0, 104.0), (204.0, float("inf"))]
    assert dark.dark_time_s(dark.pauses(events), 205.0) == pytest.approx(5.0)


def test_drive_time_leaves_out_the_pauses_after_the_start():
    spans = [(0.0, 2.0), (102.0, 104.0)]
    t = np.array([2.1, 50.0, 101.9, 104.2, 200.0])
    assert dark.drive_time_s(t, 0.0, spans) == pytest.approx([0.1, 48.0, 99.9, 100.2, 196.0])
    # A pause before the hold began (a ramp came after it) takes nothing from stress time.
    assert dark.drive_time_s(np.array([10.0]), 5.0, [(0.0, 2.0)]) == pytest.approx([5.0])


def test_the_baseline_is_linear_between_the_pauses_means_and_goes_on_after_the_last():
    t = np.array([0.5, 1.0, 1.5, 5.0, 10.0, 10.5, 11.0, 15.0])
    reading = np.array([1.0, 2.0, 3.0, 99.0, 5.0, 6.0, 7.0, 99.0])
    flags = np.array([DARK, DARK, DARK, 0, DARK, DARK, DARK, 0])
    knots = dark.baseline_knots(t, reading, flags)
    assert knots[0] == pytest.approx([1.0, 10.5]) and knots[1] == pytest.approx([2.0, 6.0])
    # Flat before the first pause; after the last, the last segment's drift goes on.
    assert dark.baseline(np.array([0.0, 5.75, 20.0]), knots) == pytest.approx(
        [2.0, 4.0, 6.0 + 9.5 * 4.0 / 9.5])
    single = dark.baseline_knots(t[:3], reading[:3], flags[:3])
    assert dark.baseline(np.array([0.0, 100.0]), single) == pytest.approx([2.0, 2.0])
    assert dark.baseline_knots(t, reading, np.zeros(8, int)) is None
