"""Lab mode figures (two services on one fresh PostgreSQL schema): how much later a client on
another site gets a run's live samples than a client of the site that measures them, and
how much longer a start takes when another site carries it out.

Streams: site A serves `sim:G1?accel=20&seed=1` (a sample every 50 ms of wall time), site C
serves nothing. A G1 lifetime at 10 V runs for 200 s of device time; one SSE client reads
A's stream (the baseline: device to a client of the same site) and one reads C's (read back
from the database as A stores it: NOTIFY per stored batch). For every seq both got, the
difference of their arrival times in this process is the remote stream's extra latency.

Commands: POST /api/runs for A's rig sent to A (baseline) and to C (a command row A takes
on NOTIFY and answers), each run aborted before the next; the time to the 201 answer.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import PG_URL
from tests.support.pgscratch import pg_unreachable_reason, temporary_pg_schema
from tests.support.service_proc import AUTH, ServiceProcess
from tests.support.waiting import wait_for

RIG = "labG1=sim:G1?accel=20&seed=1"
STREAMED = {"kind": "lifetime", "rig": "labG1",
            "params": {"voltage_v": 10.0, "sample_period_s": 1.0, "max_duration_s": 200}}
STARTS = 5


def _arrivals(url: str, run_id: int, into: dict[int, float], timeout_s: float) -> None:
    """Read the run's stream until `end`; the monotonic arrival time of each seq."""
    with httpx.stream("GET", "%s/api/runs/%d/stream" % (url, run_id), headers=AUTH,
                      timeout=httpx.Timeout(10, read=timeout_s)) as response:
        kind = None
        for line in response.iter_lines():
            if line.startswith("event:"):
                kind = line[6:].strip()
                if kind == "end":
                    return
            elif line.startswith("data:") and kind == "samples":
                now = time.monotonic()
                for row in json.loads(line[5:])["rows"]:
                    into.setdefault(row[0], now)


def _post(url: str, path: str, body: dict | None = None) -> httpx.Response:
    return httpx.post(url + path, json=body, headers=AUTH, timeout=60)


def _stream_extra_ms(site_a: ServiceProcess, site_c: ServiceProcess) -> list[float]:
    started = _post(site_a.url, "/api/runs", STREAMED)
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]
    local: dict[int, float] = {}
    remote: dict[int, float] = {}
    readers = [threading.Thread(target=_arrivals, args=(url, run_id, got, 120))
               for url, got in ((site_a.url, local), (site_c.url, remote))]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(150)
    both = sorted(set(local) & set(remote))
    assert len(both) > 100, (len(local), len(remote))
    return [1000 * (remote[seq] - local[seq]) for seq in both]


def _start_ms(site: ServiceProcess, rig_site: ServiceProcess) -> float:
    t0 = time.perf_counter()
    started = _post(site.url, "/api/runs", dict(STREAMED, params=dict(
        STREAMED["params"], max_duration_s=3600)))
    took_ms = 1000 * (time.perf_counter() - t0)
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]
    assert _post(rig_site.url, "/api/runs/%d/abort" % run_id).status_code == 200
    wait_for(lambda: httpx.get(rig_site.url + "/api/rigs/labG1", headers=AUTH, timeout=10)
             .json()["active_run"] is None, 30, "the rig to be free")
    return took_ms


def run() -> dict[str, Any]:
    reason = pg_unreachable_reason(PG_URL)
    if reason is not None:
        raise RuntimeError("PostgreSQL at %s is not reachable: %s" % (PG_URL, reason))
    with temporary_pg_schema(PG_URL, prefix="lumenrig_bench") as url, \
            tempfile.TemporaryDirectory() as name:
        folders = [Path(name) / site for site in ("a", "c")]
        for folder in folders:
            folder.mkdir()
        site_a = ServiceProcess([RIG], url, folders[0], env={"LUMENRIG_SITE": "bench-a"})
        site_c = ServiceProcess([], url, folders[1], env={"LUMENRIG_SITE": "bench-c"})
        try:
            site_a.start()
            site_c.start()
            wait_for(lambda: httpx.get(site_c.url + "/api/rigs", headers=AUTH, timeout=10)
                     .json(), 30, "the rig on the viewer's list")
            extra_ms = _stream_extra_ms(site_a, site_c)
            local_ms = [_start_ms(site_a, site_a) for _ in range(STARTS)]
            remote_ms = [_start_ms(site_c, site_a) for _ in range(STARTS)]
        finally:
            site_a.stop()
            site_c.stop()
    extra_ms.sort()
    return {
        "lab_stream_extra_latency_ms": {
            "value": round(statistics.median(extra_ms), 1),
            "unit": "ms median, a client of another site after one of the measuring site "
                    "(p95 %.1f, max %.1f; %d samples)" % (
                        extra_ms[int(0.95 * (len(extra_ms) - 1))], extra_ms[-1],
                        len(extra_ms)),
            "goal": "well under the 1 s poll (NOTIFY wakes the relay)"},
        "lab_start_via_other_site_ms": {
            "value": round(statistics.median(remote_ms), 1),
            "unit": "ms median to the 201 (%d starts; %.1f ms on the rig's own site)" % (
                STARTS, statistics.median(local_ms)),
            "goal": "the rig's own site's time + well under the 1 s poll"},
    }


if __name__ == "__main__":
    for key, figure in run().items():
        print(f"{key:34s} {figure['value']!s:>10} {figure['unit']}")
