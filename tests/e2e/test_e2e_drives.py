"""The held drive of a lifetime run over the HIL: luminance targets, one L0, constant current.

Ground truth is the preset (hil_sim/presets.py): G2 gives T50 = 35 s from 50 cd/m2, G1 draws
a known current at 10 V.
"""

import httpx
import pytest
from scipy.optimize import brentq

from hil_sim import presets
from hil_sim.physics.led import Led
from lumenfw import board_config
from tests.support.service_proc import AUTH, ServiceProcess, follow_stream


@pytest.fixture
def service(tmp_path, request):
    proc = ServiceProcess([request.param], "sqlite:///%s" % (tmp_path / "e2e.sqlite"),
                          tmp_path).start()
    yield proc
    proc.stop()


def _lifetime(url: str, params: dict) -> dict:
    response = httpx.post(url + "/api/runs", json={"kind": "lifetime", "rig": "rig1",
                                                   "params": params}, headers=AUTH, timeout=30)
    assert response.status_code == 201, response.text
    followed = follow_stream(url, response.json()["id"], timeout_s=180)
    assert followed["final"]["state"] == "completed", followed["final"]
    return followed


def _constant_current_t50_s(preset: str, current_a: float, dt_s: float = 0.5) -> float:
    """T50 the simulator's physics gives a fresh pixel held at current_a (ground truth).

    The model ages with the stress rate (L_fresh(V) / l0_ref)^n at the voltage V the pixel
    needs for that current; as the pixel ages its light-producing current falls at a given
    voltage (q), so the voltage rises to hold the current (hil_sim/README.md, "Device
    physics").  Integrated with the midpoint rule in dt_s steps; T50 interpolated.
    """
    led = Led(presets.preset(preset))

    def hold(q: float) -> None:  # leaves the pixel's operating point at the held current
        def excess_a(voltage_v: float) -> float:
            led.fresh_point(voltage_v)
            return ((led.point_j_diode_a_m2 * q + led.point_j_shunt_a_m2) * led.area_m2
                    - current_a)
        brentq(excess_a, 0.5, 40.0, xtol=1e-12)

    hold(1.0)
    l0 = led.point_luminance_cd_m2
    t_s, t_eff_s, before = 0.0, 0.0, (0.0, 1.0)
    while True:
        r, q = led.aged_factors(t_eff_s)
        hold(q)
        fraction = led.point_luminance_cd_m2 * r * q / l0
        if fraction <= 0.5:
            t0, f0 = before
            return t0 + (f0 - 0.5) / (f0 - fraction) * (t_s - t0)
        before = (t_s, fraction)
        hold(led.aged_factors(t_eff_s + led.point_stress_rate * dt_s / 2)[1])
        t_eff_s += led.point_stress_rate * dt_s
        t_s += dt_s


def _hold_samples(url: str, run_id: int) -> list[dict]:
    got = httpx.get("%s/api/runs/%d/samples" % (url, run_id), timeout=60).json()
    rows = [dict(zip(got["columns"], row)) for row in got["rows"]]
    return [r for r in rows if not r["flags"] & 512]  # schema.FLAG_RAMP


# The runs below are watched live (one L0, what the progress said): each lasts seconds of
# wall time (x5), so a stream that connects a little late under load still sees it going.
@pytest.mark.parametrize("service", ["sim:G2?accel=5&seed=3"], indirect=True)
def test_g2_at_a_50_cd_m2_target_reaches_it_within_2_percent_and_gives_the_preset_t50(service):
    followed = _lifetime(service.url, {"target_l0_cd_m2": 50.0, "sample_period_s": 0.2,
                                       "host_loss_grace_s": 30})
    summary = followed["final"]["summary"]
    assert summary["l0_target_cd_m2"] == 50.0
    assert summary["l0_cd_m2"] == pytest.approx(50, rel=0.02)
    assert summary["t50_s"] == pytest.approx(35, rel=0.05)
    # The ramp (coarse steps, then bisection) is short, and the stress counts from its end.
    assert 0 < summary["stress_start_s"] < 10
    assert not any("from the target" in note for note in summary["notes"])
    # One L0: what the live progress said is what the summary says, to the last bit.
    assert followed["live_l0"] == [summary["l0_cd_m2"]]


@pytest.mark.parametrize("service", ["sim:G1?accel=5&seed=4"], indirect=True)
def test_g1_targets_of_100_and_200_cd_m2_are_reached_within_2_percent(service):
    for target in (100.0, 200.0):  # (T80 at 200 cd/m2: ~14 s, ~3 s of wall time)
        followed = _lifetime(service.url, {"target_l0_cd_m2": target, "stop_fraction": 0.8,
                                           "host_loss_grace_s": 30})
        summary = followed["final"]["summary"]
        assert summary["l0_cd_m2"] == pytest.approx(target, rel=0.02), target
        assert summary["stress_start_s"] < 10
        assert followed["live_l0"] == [summary["l0_cd_m2"]]


@pytest.mark.parametrize("service", ["sim:G1?accel=50&seed=2"], indirect=True)
def test_g1_at_constant_voltage_has_one_l0_and_the_preset_t50(service):
    followed = _lifetime(service.url, {"voltage_v": 10.0, "host_loss_grace_s": 30})
    summary = followed["final"]["summary"]
    assert followed["live_l0"] == [summary["l0_cd_m2"]]
    # l0_settle_s (0.1 s, the default) after the setpoint's climb to 10 V: four held steps
    # of 2 V from 0 (lumenfw/climb.py, CLIMB_HOLD_US each), about 0.2 s
    assert 0.1 + 4 * board_config.CLIMB_HOLD_US / 1e6 < summary["t_l0_s"] < 0.4
    assert summary["t50_s"] == pytest.approx(630, rel=0.01)


@pytest.mark.parametrize("service", ["sim:G1?accel=50&seed=7"], indirect=True)
def test_constant_current_holds_the_current_and_reports_the_voltage_rise(service):
    led = Led(presets.preset("G1"))
    led.fresh_point(10.0)
    current_a = (led.point_j_diode_a_m2 + led.point_j_shunt_a_m2) * led.area_m2
    followed = _lifetime(service.url, {"current_a": current_a, "max_voltage_v": 14.0,
                                       "host_loss_grace_s": 30})
    run_id = followed["final"]["id"]
    summary = followed["final"]["summary"]
    assert followed["live_l0"] == [summary["l0_cd_m2"]]
    held = _hold_samples(service.url, run_id)
    assert len(held) > 100
    assert all(abs(r["current_a"] / current_a - 1) <= 0.01 for r in held)
    assert summary["voltage_at_l0_v"] == pytest.approx(10.0, abs=0.1)
    # The pixel loses current at a given voltage as it ages (hil_sim/README.md), so holding
    # the current takes a rising voltage.
    assert summary["voltage_rise_at_t50_v"] > 0
    assert summary["voltage_rise_at_end_v"] >= summary["voltage_rise_at_t50_v"]
    # Holding the current makes up for the pixel's falling current, so it outlives the 630 s
    # it has at constant voltage.
    truth_s = _constant_current_t50_s("G1", current_a)
    assert 640 < truth_s < 680
    assert summary["t50_s"] == pytest.approx(truth_s, rel=0.03)


@pytest.mark.parametrize("service", ["sim:G1?accel=20&seed=3"], indirect=True)
def test_an_l0_within_the_photodiode_noise_gets_a_note_and_no_eta(service):
    # 7.5 V: about 1.3e-3 cd/m2, a pA or two of photocurrent over the dark current.
    followed = _lifetime(service.url, {"voltage_v": 7.5, "max_duration_s": 60})
    summary = followed["final"]["summary"]
    assert any("below 10x the photodiode noise" in note for note in summary["notes"])
    late = [m for m in followed["progress"] if m["t_s"] > 30]
    assert late and all(m["faint"] and "eta_s" not in m for m in late)
