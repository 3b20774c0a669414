"""The board self-test through the whole stack, over the HIL: a healthy simulated board passes
every check, a missing SHT31 and a stuck INA226 are named with advice, a run needing the broken
part is refused with the check's message, and `lumenrig selftest` exits as the result says."""

import os

import httpx
import pytest

from tests.support.service_proc import AUTH, LUMENRIG, TOKEN, ServiceProcess, wait_for

HEALTHY = "sim:G1?accel=max&seed=3"
NO_SHT31 = "nosht=sim:G1?accel=max&seed=3&faults=missing=sht31"
STUCK_INA = "stuckina=sim:G1?accel=max&seed=3&faults=stuck=ina226"
# A board of three channel cards whose card 2 is dead from power-on and card 1's INA226 stuck.
DEAD_CARD = "cards=sim:G1?accel=max&seed=3&channels=3&faults=card_fail=2@0s,stuck=ina226@1"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    folder = tmp_path_factory.mktemp("selftest")
    proc = ServiceProcess([HEALTHY, NO_SHT31, STUCK_INA, DEAD_CARD],
                          "sqlite:///%s" % (folder / "e2e.sqlite"), folder).start()
    try:
        yield proc
    finally:
        proc.stop()


def _selftest(service, rig: str) -> httpx.Response:
    return httpx.post("%s/api/rigs/%s/selftest" % (service.url, rig), headers=AUTH, timeout=60)


def _rig(service, rig: str) -> dict:
    return httpx.get("%s/api/rigs/%s" % (service.url, rig), timeout=60).json()


def _checks(result: dict) -> dict[str, dict]:
    return {check["id"]: check for check in result["checks"]}


def _start(service, rig: str, kind: str = "lifetime", params=None) -> httpx.Response:
    return httpx.post(service.url + "/api/runs", headers=AUTH, timeout=30, json={
        "kind": kind, "rig": rig, "params": params or {"voltage_v": 10, "max_duration_s": 60}})


def test_every_check_passes_on_a_healthy_simulated_board(service):
    response = _selftest(service, "rig1")
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["rig"] == "rig1" and result["passed"] is True and result["failed"] == []
    checks = _checks(result)
    assert {"i2c_scan", "ina226_manufacturer", "ina226_die", "sht31_status", "sht31_serial",
            "dac_readback", "ads1115_config", "interlock", "supply_offset", "shutter_open",
            "shutter_close", "dark_range_0", "dark_range_5"} <= set(checks)
    for check in result["checks"]:
        assert (check["state"], check["passed"], check["advice"]) == ("pass", True, None), check
        assert check["name"] and check["limit"]
    assert checks["ina226_manufacturer"]["value"] == "0x5449"
    assert checks["shutter_open"]["unit"] == "ms" and checks["dark_range_0"]["unit"] == "pA"
    assert _rig(service, "rig1")["selftest"]["checks"] == result["checks"]  # kept on the rig


def test_a_board_is_checked_at_connection_before_any_request(service):
    kept = wait_for(lambda: _rig(service, "stuckina")["selftest"], 30,
                    "the quick self-test at the handshake")
    assert kept["scope"] == "quick" and kept["passed"] is False
    assert "ina226_manufacturer" in kept["failed"]
    assert "shutter_open" not in _checks(kept)  # the quick test moves nothing


def test_a_missing_sht31_is_named_with_advice(service):
    result = _selftest(service, "nosht").json()
    assert result["passed"] is False
    assert set(result["failed"]) == {"i2c_scan", "sht31_status", "sht31_serial"}
    checks = _checks(result)
    assert checks["i2c_scan"]["detail"] == "no answer from SHT31 0x44"
    status = checks["sht31_status"]
    assert status["state"] == "fail" and "no answer" in status["detail"]
    assert "SHT31" in status["name"] and "runs go on without it" in status["advice"]


def test_a_stuck_ina226_is_named_with_what_it_reads(service):
    result = _selftest(service, "stuckina").json()
    assert result["passed"] is False
    ina = _checks(result)["ina226_manufacturer"]
    assert (ina["state"], ina["value"], ina["limit"]) == ("fail", "0xffff", "0x5449 (TI)")
    assert "stuck" in ina["advice"]


def test_a_run_needing_the_stuck_ina226_is_refused_with_the_checks_message(service):
    wait_for(lambda: _rig(service, "stuckina")["selftest"], 30, "a self-test of the board")
    for kind, params in (("lifetime", None), ("jvl", {"start_v": 0, "stop_v": 5, "step_v": 1})):
        response = _start(service, "stuckina", kind, params)
        assert response.status_code == 409, response.text
        detail = response.json()["detail"]
        assert "INA226 manufacturer id" in detail and "0xffff" in detail, detail
        assert "no run starts without the DUT's voltage and current" in detail
    runs = httpx.get(service.url + "/api/runs?rig=stuckina", timeout=60).json()["runs"]
    assert runs == []


def test_a_rig_without_its_sht31_still_runs_and_refuses_a_self_test_meanwhile(service):
    # A day to 1 % of L0: unpaced it lasts tens of wall seconds, so it still runs when the
    # self-test is asked however busy the machine (the abort below ends it).
    started = _start(service, "nosht", params={"voltage_v": 10, "stop_fraction": 0.01,
                                               "max_duration_s": 86400})
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]
    try:
        refused = _selftest(service, "nosht")
        assert refused.status_code == 409 and "busy" in refused.json()["detail"]
    finally:
        httpx.post("%s/api/runs/%d/abort" % (service.url, run_id), headers=AUTH, timeout=60)


def test_the_selftest_route_needs_the_token(service):
    response = httpx.post(service.url + "/api/rigs/rig1/selftest", timeout=30)
    assert response.status_code == 401


def _cli(service, *args: str):
    import subprocess

    env = dict(os.environ, LUMENRIG_TOKEN=TOKEN)
    return subprocess.run([str(LUMENRIG), "selftest", *args, "--server", service.url],
                          capture_output=True, text=True, env=env, timeout=120)


def test_the_cli_exits_0_with_a_table_when_every_check_passes(service):
    done = _cli(service, "rig1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "INA226 manufacturer id" in done.stdout and "0x5449" in done.stdout
    assert "passed every check" in done.stderr


def test_the_cli_exits_1_naming_the_failed_checks_with_advice(service):
    done = _cli(service, "stuckina")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "0xffff" in done.stdout and "fail" in done.stdout
    assert "stuck" in done.stdout  # the advice column
    assert "ina226_manufacturer" in done.stderr


def test_the_cli_exits_2_for_a_rig_the_service_does_not_have(service):
    done = _cli(service, "nosuchrig")
    assert done.returncode == 2 and "no rig named" in done.stderr



def test_a_card_board_is_tested_a_channel_at_a_time_and_a_dead_card_refuses_its_channel(
        service):
    # The quick test at the handshake has found card 2 dead already.
    wait_for(lambda: (_rig(service, "cards").get("selftest") or {}).get("passed") is False,
             60, "the handshake's self-test of the card board")
    refused = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=30, json={
            "kind": "lifetime", "rig": "cards", "channel": 2,
            "params": {"voltage_v": 10, "max_duration_s": 60}})
    assert refused.status_code == 409, refused.text
    assert "rig cards channel 2 cannot start a lifetime run" in refused.text
    assert "on channel 2" in refused.text and "INA226" in refused.text
    response = _selftest(service, "cards")
    assert response.status_code == 200, response.text
    result = response.json()
    assert sorted({check["channel"] for check in result["checks"]}) == [0, 1, 2]
    failed = [(c["channel"], c["id"]) for c in result["checks"] if c["state"] == "fail"]
    assert {channel for channel, _id in failed} == {1, 2}, failed
    assert (2, "ina226_manufacturer") in failed and (1, "ina226_die") in failed
    assert "ch2/ina226_manufacturer" in result["failed"]
    stuck = next(c for c in result["checks"] if (c["channel"], c["id"]) == (1, "ina226_die"))
    assert stuck["value"] == "0xffff", stuck
    done = _cli(service, "cards")
    assert done.returncode == 1 and "channel" in done.stdout.splitlines()[0], done.stdout
    rig_checks = {c["id"] for c in result["checks"] if c["channel"] == 0}
    assert {"sht31_status", "interlock", "shutter_open"} <= rig_checks
    assert not {"sht31_status", "interlock", "shutter_open"} & {
        c["id"] for c in result["checks"] if c["channel"] == 1}, "the rig's parts once"
    started = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=30, json={
        "kind": "lifetime", "rig": "cards", "channel": 0,
        "params": {"voltage_v": 10, "max_duration_s": 5}})
    assert started.status_code == 201, started.text
    wait_for(lambda: httpx.get("%s/api/runs/%d" % (service.url, started.json()["id"]),
                               timeout=60).json()["state"] == "completed", 120,
             "the run on card 0 to complete")
