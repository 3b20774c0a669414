"""The rig card's trend of a followed run: a bounded L/L0 (PL/PL0) series kept as samples are
stored, and the T-values passed so far, by the lifetime summary's own definitions."""

import itertools
from types import SimpleNamespace

import numpy as np
import pytest

from host.analysis.commands import summarize_lifetime
from host.live.fanout import Hub
from host.rigs import Rig
from host.runs.book import RunBook
from host.runs.trend import LIFETIME_TREND, TREND_POINTS, Trend
from host.settings import RigSpec
from host.store import Store
from protocol import schema

DARK, RAMP, L0 = schema.FLAG_DARK, schema.FLAG_RAMP, schema.FLAG_L0
RUN_KEYS = itertools.count(0x5A5A)


def _decay(n: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """A noisy stretched-exponential L/L0 with a spike, one sample a second."""
    t_s = np.arange(n, dtype=float)
    ratio = np.exp(-(t_s / 900.0) ** 0.8) + np.random.default_rng(seed).normal(0, 0.01, n)
    ratio[0] = 1.0  # L0's own sample
    ratio[10] = 0.1  # a spike the median removes (before T95, about 22 s)
    return t_s, ratio


def _in_batches(trend: Trend, t_s: np.ndarray, ratio: np.ndarray, seed: int = 5) -> None:
    rng = np.random.default_rng(seed)
    i = 0
    while i < len(t_s):
        n = int(rng.integers(1, 30))
        trend.add(t_s[i:i + n], ratio[i:i + n])
        i += n


def test_the_trend_stays_bounded_and_spans_the_run_to_its_newest_point():
    trend = Trend(LIFETIME_TREND)
    t_s, ratio = _decay(100_000)
    _in_batches(trend, t_s, ratio)
    points = trend.points()
    assert 10 < len(points) <= TREND_POINTS
    times = [t for t, _ in points]
    assert times[0] == 0.0
    # The median's newest centre: half its window behind the newest sample.
    assert times[-1] == t_s[-1] - LIFETIME_TREND.window // 2
    steps = np.diff(times[:-1])
    assert (steps == steps[0]).all()  # every stride-th point, spread over the whole run


def test_the_t_values_are_the_summarys_crossings_of_the_same_curve():
    t_s, ratio = _decay(3000)
    trend = Trend(LIFETIME_TREND)
    _in_batches(trend, t_s, ratio)
    summary = summarize_lifetime(t_s, ratio, i_l0=0)
    assert set(trend.t_values) == {"t95_s", "t80_s", "t50_s"}
    for name, t_value_s in trend.t_values.items():
        assert t_value_s == pytest.approx(summary[name], abs=1e-9)
    assert trend.t_values["t95_s"] > 15  # the spike at 10 s is not a crossing


def test_only_the_t_values_passed_are_given():
    t_s, ratio = _decay(3000)
    trend = Trend(LIFETIME_TREND)
    trend.add(t_s[:250], ratio[:250])  # to L/L0 = 0.7, about
    assert set(trend.t_values) == {"t95_s", "t80_s"}


def _cols(t_s, lum, flags) -> dict[str, np.ndarray]:
    n = len(t_s)
    return {"t_s": np.asarray(t_s, float), "luminance_cd_m2": np.asarray(lum, float),
            "flags": np.asarray(flags, np.int64), "pl": np.full(n, np.nan),
            "setpoint_v": np.full(n, 10.0), "voltage_v": np.full(n, 10.0)}


@pytest.fixture
def book(tmp_path):
    with Store("sqlite:///%s" % (tmp_path / "trend.sqlite")) as store:
        store.upsert_rig("rig1", "sim:G1")
        rig = Rig(RigSpec(name="rig1", spec="sim:G1"))
        yield RunBook(store, Hub(), {"rig1": rig})


def _follow(book, kind="lifetime", params=None, device=None):
    params = {"voltage_v": 10.0} if params is None else params
    run = book.store.create_run("rig1", kind, params, run_key=next(RUN_KEYS),
                                state="running", labels={"device": device})
    return book.enter(run, book.rigs["rig1"])


def test_a_lifetime_trend_starts_at_l0_and_leaves_out_ramp_and_dark_samples(book):
    tracker = _follow(book, params={"current_a": 1e-3})
    tracker.note_event(schema.EV_TARGET_REACHED, 5.0)
    # Ramp, then the hold: L0's flagged sample before its event, a dark pause of 10 s.
    tracker.note_samples(_cols([1, 3, 6, 7, 8], [30, 60, 100, 99, 98], [RAMP, RAMP, L0, 0, 0]))
    assert tracker.l0_cd_m2 == 100.0
    tracker.note_event(schema.EV_DARK_BEGIN, 8.5)
    tracker.note_samples(_cols([9, 10, 11], [0.01, 0.0, 0.02], [DARK, DARK, DARK]))
    tracker.note_event(schema.EV_DARK_END, 18.5)
    tracker.note_event(schema.EV_DARK_END, 18.5)  # resent: counted once
    after = np.arange(19.0, 31.0)
    tracker.note_samples(_cols(after, 112 - after, np.zeros(len(after))))
    # On stress time: from the hold's start (5 s), the 10 s pause taken out.
    expected = Trend(LIFETIME_TREND)
    expected.add(np.concatenate(([1.0, 2.0, 3.0], after - 15)),
                 np.concatenate(([1.0, 0.99, 0.98], (112 - after) / 100)))
    view = tracker.channel_view()
    assert view == {"device": None, "trend": expected.points(),
                    "t_values": expected.t_values}
    assert 3.0 < view["t_values"]["t95_s"] < 4.0  # the pause does not count
    assert min(ratio for _, ratio in view["trend"]) > 0.8  # no dark reading on the curve


def test_nothing_enters_the_trend_before_l0_is_known(book):
    tracker = _follow(book)
    tracker.note_samples(_cols([1, 2, 3], [90, 50, 40], [0, 0, 0]))
    assert tracker.channel_view()["trend"] == []
    assert tracker.channel_view()["t_values"] == {}


def test_a_photostability_trend_is_pl_over_its_first_point_and_a_sweep_has_none(book):
    film = _follow(book, "photostability", {})
    cols = _cols([0, 5, 10, 15], [np.nan] * 4, [schema.FLAG_PL_POINT, 0,
                                                 schema.FLAG_PL_POINT, schema.FLAG_PL_POINT])
    cols["pl"] = np.array([2e-9, 1.9e-9, 1.5e-9, 1e-9])
    film.note_samples(cols)
    assert film.channel_view()["trend"] == [[0.0, 1.0], [10.0, 0.75], [15.0, 0.5]]
    assert film.channel_view()["t_values"] == {}
    book.leave(film)
    sweep = _follow(book, "jvl", {})
    sweep.note_samples(_cols([0, 1], [10, 20], [schema.FLAG_STEP_END] * 2))
    assert sweep.channel_view()["trend"] == []


def test_the_rig_shows_each_channel_with_its_runs_device_name_and_none_once_it_ends(book):
    rig = book.rigs["rig1"]
    rig.link = SimpleNamespace(snapshot=lambda: {"connected": True, "channels": [
        {"channel": 0}, {"channel": 1}]}, stats=dict)
    tracker = _follow(book, device={"name": "G1-A3"})
    tracker.note_samples(_cols([1, 2, 3], [100, 99, 98], [L0, 0, 0]))
    ours, other = rig.describe()["device"]["channels"]
    assert ours["device"] == "G1-A3" and len(ours["trend"]) == 2
    assert other == {"channel": 1, "run": None, "last_sample": None, "device": None,
                     "trend": [], "t_values": {}}
    book.edited(book.store.edit_run(tracker.run.id, {"device.name": "G1-A4"}, "test"))
    assert rig.describe()["device"]["channels"][0]["device"] == "G1-A4"
    book.leave(tracker)
    assert rig.describe()["device"]["channels"][0]["trend"] == []
