"""Dark tracking over the HIL: a photodiode whose dark current drifts up as it warms
(LUMENRIG_SIM_PD_WARMUP_C) makes a faint pixel's L/L0 climb by several per cent; dark
pauses take the drift out to within 0.5 %."""

import httpx
import numpy as np
import pytest

from hil_sim.physics.bench import Bench
from host.analysis.dark import drive_time_s, pauses
from host.runs.exports import read_export, summarize_export
from host.runs.summaries import hold_start_s, stress_rows, tracked_dark
from lumenfw import board_config
from lumenfw.board import dac_code, dac_mv
from protocol import schema
from tests.support.fw_harness import pd_amps_per_cd_m2
from tests.support.service_proc import AUTH, ServiceProcess, follow_stream

SEED = 4
HOLD_V = 9.0  # G1 at 9 V: ~0.8 cd/m2, ~730 pA on the photodiode
WARMUP_C = 30.0  # the dark current climbs from ~5 pA towards ~90 pA (1.1x per degC)
RUN = {"voltage_v": HOLD_V, "max_duration_s": 3600, "sample_period_s": 2.0,
       "l0_settle_s": 0.1}
TRACKED = dict(RUN, dark_every_s=300, dark_s=3.0)
WINDOW = 25  # samples per median: one sample's noise is ~0.3 %


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """{name: (final run, export path)} for the same pixel with and without dark tracking."""
    folder = tmp_path_factory.mktemp("dark")
    spec = "sim:G1?accel=2000&seed=%d" % SEED
    service = ServiceProcess([spec, spec], "sqlite:///%s" % (folder / "runs.sqlite"), folder,
                             env={"LUMENRIG_SIM_PD_WARMUP_C": str(WARMUP_C)}).start()
    try:
        started = {}
        for name, rig, params in (("tracked", "rig1", TRACKED), ("untracked", "rig2", RUN)):
            response = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=30,
                                  json={"kind": "lifetime", "rig": rig, "params": params})
            assert response.status_code == 201, response.text
            started[name] = response.json()["id"]
        out = {}
        for name, run_id in started.items():
            final = follow_stream(service.url, run_id, timeout_s=240)["final"]
            export = httpx.get(service.url + "/api/runs/%d/export.csv" % run_id, timeout=60)
            assert export.status_code == 200, export.text
            path = folder / ("%s.csv" % name)
            path.write_text(export.text)
            out[name] = (final, path)
        yield out
    finally:
        service.stop()


def _true_luminance(stress_s: np.ndarray) -> np.ndarray:
    """The pixel's own luminance after each stress time at the held setpoint (ground truth)."""
    bench = Bench("G1", SEED, pd_amps_per_cd_m2("G1"))
    bench.set_output_relay(1)
    bench.set_supply_setpoint_v(dac_mv(dac_code(int(HOLD_V * 1000), board_config),
                                       board_config) / 1000)
    out = []
    for t_s in stress_s:
        bench.advance_to(float(t_s))
        out.append(bench.luminance_cd_m2())
    return np.array(out)


def _l_over_l0_error(path) -> np.ndarray:
    """(measured L/L0) / (true L/L0) - 1 along the run, in windowed medians, with the
    summary's own dark correction (none for a run without pauses)."""
    meta, cols = read_export(path)
    events = meta["events"]
    start = hold_start_s(events)
    lum, _ = tracked_dark(cols, cols["luminance_cd_m2"], 1.0, events)
    keep = stress_rows(cols, start)
    stress_s = drive_time_s(cols["t_s"][keep], start, pauses(events))
    ratio = lum[keep] / _true_luminance(stress_s)
    n = len(ratio) // WINDOW
    medians = np.median(ratio[:n * WINDOW].reshape(n, WINDOW), axis=1)
    return medians / medians[0] - 1


def test_dark_pauses_remove_a_drifting_dark_current_from_l_over_l0(runs):
    final, path = runs["tracked"]
    assert final["state"] == "completed", final.get("error")
    error = _l_over_l0_error(path)
    assert np.max(np.abs(error)) < 0.005, error
    summary = final["summary"]
    assert summary["dark_pauses"] == 12  # at the start, then after every 300 s of drive
    assert summary["dark_time_s"] == pytest.approx(12 * 3.0, abs=0.1)
    assert summary["dark_drift_a"] > 30e-12  # what the pauses followed


def test_without_dark_pauses_the_same_drift_shows_in_l_over_l0(runs):
    final, path = runs["untracked"]
    assert final["state"] == "completed", final.get("error")
    error = _l_over_l0_error(path)
    assert np.max(error) > 0.03, error  # the test above would see this
    assert "dark_pauses" not in final["summary"]


def test_stress_time_leaves_the_pauses_out_and_the_summary_round_trips(runs):
    final, path = runs["tracked"]
    meta, cols = read_export(path)
    dark = (cols["flags"] & schema.FLAG_DARK) != 0
    assert (cols["dark"] == dark).all()
    assert not ((cols["flags"] & schema.FLAG_OUTPUT_ON) != 0)[dark].any()
    # The end of the record in stress time: the run's 3600 s less its 12 pauses.
    spans = pauses(meta["events"])
    last = drive_time_s(cols["t_s"][-1:], 0.0, spans)[0]
    assert last == pytest.approx(float(cols["t_s"][-1]) - 36.0, abs=0.1)
    assert summarize_export(path, "lifetime") == final["summary"]


def _true_l_end_over_l0(path) -> float:
    meta, cols = read_export(path)
    events = meta["events"]
    start = hold_start_s(events)
    keep = stress_rows(cols, start)
    stress_s = drive_time_s(cols["t_s"][keep], start, pauses(events))
    l0_row = int(np.flatnonzero(cols["flags"][keep] & schema.FLAG_L0)[0])
    true = _true_luminance(stress_s[[l0_row, -1]])
    return float(true[1] / true[0])


def test_the_summary_ends_at_the_true_l_over_l0_only_with_dark_pauses(runs):
    """l_end_over_l0 (smoothed end over the one-sample L0, whose own noise is ~0.3 %)."""
    tracked, path = runs["tracked"]
    truth = _true_l_end_over_l0(path)
    assert truth < 0.995  # the pixel has aged measurably: the comparison means something
    assert tracked["summary"]["l_end_over_l0"] == pytest.approx(truth, rel=0.01)
    untracked, path = runs["untracked"]
    assert untracked["summary"]["l_end_over_l0"] > _true_l_end_over_l0(path) + 0.03
