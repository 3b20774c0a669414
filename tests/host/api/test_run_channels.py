"""A run names the rig's channel (pixel) it runs on: the rig lists its channels as its board
tells them, a channel the board lacks is refused before anything is stored, and the run,
its export and `lumenrig show` carry its channel. One real service on a one-channel
simulated rig (the firmware runs channel 0)."""

import json
import os
import subprocess

import httpx
import pytest

from tests.support.service_proc import AUTH, LUMENRIG, TOKEN, ServiceProcess, wait_for

NO_CHANNEL_1 = "rig rig1 has no channel 1: its board has channel 0"


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    folder = tmp_path_factory.mktemp("channels")
    proc = ServiceProcess(["sim:G1?accel=max&seed=12"], "sqlite:///%s" % (folder / "ch.sqlite"),
                          folder).start()
    try:
        yield proc
    finally:
        proc.stop()


def _get(service, path):
    return httpx.get(service.url + path, timeout=60).json()


def _post(service, path, body):
    return httpx.post(service.url + path, json=body, headers=AUTH, timeout=60)


def _lifetime(channel, **more):
    return {"kind": "lifetime", "rig": "rig1", "channel": channel,
            "params": {"voltage_v": 10, "max_duration_s": 5}, **more}


def test_the_rig_lists_the_channels_its_board_tells(service):
    wait_for(lambda: _get(service, "/api/rigs/rig1")["device"]["channels"], 60,
             "the board's channels")
    [channel] = _get(service, "/api/rigs/rig1")["device"]["channels"]
    assert channel["channel"] == 0
    assert channel["can"] == ["drive", "laser", "photodiode"]
    assert set(channel) == {"channel", "can", "state", "mode", "run_key", "next_seq",
                            "output_on", "compliance", "run", "last_sample", "device", "trend",
                            "t_values"}
    assert (channel["run"], channel["device"], channel["trend"], channel["t_values"]) == (
        None, None, [], {})


def test_a_run_on_channel_0_carries_its_channel_to_the_export_and_show(service):
    started = _post(service, "/api/runs", _lifetime(0))
    assert started.status_code == 201, started.text
    run = started.json()
    assert run["channel"] == 0
    wait_for(lambda: _get(service, "/api/runs/%d" % run["id"])["state"] == "completed", 120,
             "the run to complete")
    exported = httpx.get(service.url + "/api/runs/%d/export.csv" % run["id"],
                         timeout=60).text
    header = next(line for line in exported.splitlines() if line.startswith("# run: "))
    assert json.loads(header.removeprefix("# run: "))["channel"] == 0
    shown = subprocess.run([str(LUMENRIG), "show", str(run["id"]), "--server", service.url],
                           capture_output=True, text=True, timeout=120)
    assert shown.stdout.startswith("run %d: lifetime on rig1, completed\n" % run["id"])


@pytest.mark.parametrize("body, status, says", [
    (_lifetime(1), 422, NO_CHANNEL_1),
    (_lifetime(8), 422, "less than or equal to 7"),
    (_lifetime(-1), 422, "greater than or equal to 0"),
])
def test_a_channel_the_board_lacks_is_refused_and_nothing_is_stored(service, body, status,
                                                                     says):
    before = _get(service, "/api/runs")["runs"]
    refused = _post(service, "/api/runs", body)
    assert refused.status_code == status and says in refused.text, refused.text
    assert _get(service, "/api/runs")["runs"] == before


def test_a_sequence_on_a_channel_the_board_lacks_is_refused(service):
    refused = _post(service, "/api/sequences", {"rig": "rig1", "channel": 1,
                                                "steps": [{"kind": "jvl"}]})
    assert refused.status_code == 422 and NO_CHANNEL_1 in refused.text, refused.text


def test_lumenrig_run_on_a_channel_the_board_lacks_exits_2_with_the_reason(service):
    result = subprocess.run(
        [str(LUMENRIG), "run", "lifetime", "-p", "voltage_v=10", "--channel", "1",
         "--server", service.url], capture_output=True, text=True, timeout=120,
        env=dict(os.environ, LUMENRIG_TOKEN=TOKEN))
    assert (result.returncode, result.stderr) == (2, "error: 422: %s\n" % NO_CHANNEL_1)
    bad = subprocess.run([str(LUMENRIG), "run", "lifetime", "--channel", "9"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--channel" in bad.stderr
