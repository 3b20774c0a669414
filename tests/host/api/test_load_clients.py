"""Load: 50 monitoring clients on one accelerated run, on loopback.

25 clients follow the live stream (SSE) and 25 poll the run and its downsampled samples,
as open dashboards do, while a simulated G1 runs a lifetime test at 100 samples per wall
second. Every client must see the run to its end, ingest must keep up (every seq stored exactly
once, none lost on the link), and every stream must carry every sample from where it joined
to the end. The latencies and the longest wait for data are printed on `load ...` lines
(pytest -s shows them); they depend on the machine's load, so no bound is asserted on them.
"""

import asyncio
import json
import statistics
import time

import httpx
import pytest

from tests.support.service_proc import AUTH, ServiceProcess, wait_for

SSE_CLIENTS = 25
POLL_CLIENTS = 25
POLL_PAUSE_S = 1.0  # a dashboard's refresh: each poller waits this long between rounds
ACCEL = 20
RUN = {"voltage_v": 10.0, "sample_period_s": 0.2, "max_duration_s": 400.0,
       "host_loss_grace_s": 30.0}  # 2000 samples in ~20 s of wall time
DEADLINE_S = 150.0


@pytest.fixture
def service(tmp_path):
    proc = ServiceProcess([f"sim:G1?accel={ACCEL}&seed=6"],
                          "sqlite:///%s" % (tmp_path / "load.sqlite"), tmp_path).start()
    yield proc
    proc.stop()


class Client:
    """What one client saw: when data came, request latencies, streamed seqs."""

    def __init__(self, name):
        self.name = name
        self.started = time.monotonic()
        self.data_at = []
        self.latencies_s = {}
        self.seqs = []
        self.kinds = {}
        self.ended = False

    def got_data(self):
        self.data_at.append(time.monotonic())

    def longest_wait_s(self):
        """The longest time without data, from the client's start to its last data."""
        marks = [self.started, *self.data_at]
        return max(b - a for a, b in zip(marks, marks[1:]))


async def _follow(client, url, run_id, seen):
    """One SSE client: every event until `end`."""
    kind = None
    async with client.stream("GET", f"{url}/api/runs/{run_id}/stream") as response:
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                kind = line[6:].strip()
                seen.kinds[kind] = seen.kinds.get(kind, 0) + 1
            elif line.startswith("data:"):
                data = json.loads(line[5:])
                if kind == "samples":
                    seen.latencies_s.setdefault("stream", []).append(time.time()
                                                                     - data["sent_at"])
                    seen.seqs.extend(row[0] for row in data["rows"])
                    seen.got_data()
                elif kind == "progress":
                    seen.got_data()
                elif kind == "end":
                    seen.ended = True
                    seen.got_data()
                    return


async def _timed_get(client, url, seen, what):
    started = time.monotonic()
    try:
        response = await client.get(url)
    except httpx.RemoteProtocolError:  # a kept-alive connection the server had just closed:
        response = await client.get(url)  # a GET is asked again on a new one, as browsers do
    seen.latencies_s.setdefault(what, []).append(time.monotonic() - started)
    assert response.status_code == 200, response.text[:300]
    seen.got_data()
    return response.json()


async def _poll(client, url, run_id, seen):
    """One polling client: the run, then its samples for a 500-point plot, until it ends."""
    while True:
        run = await _timed_get(client, f"{url}/api/runs/{run_id}", seen, "run")
        await _timed_get(client, f"{url}/api/runs/{run_id}/samples?max_points=500", seen,
                         "samples")
        if run["state"] in ("completed", "aborted", "failed"):
            seen.ended = True
            return
        await asyncio.sleep(POLL_PAUSE_S)


async def _monitor(url, run_id):
    limits = httpx.Limits(max_connections=SSE_CLIENTS + POLL_CLIENTS + 10)
    timeout = httpx.Timeout(30, read=60)
    followers = [Client(f"sse{i}") for i in range(SSE_CLIENTS)]
    pollers = [Client(f"poll{i}") for i in range(POLL_CLIENTS)]
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        tasks = [_follow(client, url, run_id, c) for c in followers]
        tasks += [_poll(client, url, run_id, c) for c in pollers]
        await asyncio.wait_for(asyncio.gather(*tasks), DEADLINE_S)
    return followers, pollers, time.monotonic()


def _figures(values_s):
    ordered = sorted(values_s)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return (f"p50 {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
            f"max {ordered[-1] * 1000:.0f} ms ({len(ordered)})")


def test_fifty_monitoring_clients_all_see_the_end_and_every_sample_is_stored(service):
    response = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=30,
                          json={"kind": "lifetime", "rig": "rig1", "params": RUN})
    assert response.status_code == 201, response.text
    run_id = response.json()["id"]
    started = time.monotonic()
    followers, pollers, ended_at = asyncio.run(_monitor(service.url, run_id))
    wall_s = ended_at - started

    run = httpx.get(f"{service.url}/api/runs/{run_id}", timeout=30).json()
    assert run["state"] == "completed", run
    rows = httpx.get(f"{service.url}/api/runs/{run_id}/samples", timeout=60).json()["rows"]
    seqs = [row[0] for row in rows]
    assert seqs == list(range(len(seqs))), "every seq stored exactly once"
    planned = RUN["max_duration_s"] / RUN["sample_period_s"]
    # Every period of the hold is sampled whatever the load (the simulated board's clock is
    # discrete-event): all of them but the first, which the climb to 10 V takes.
    assert len(seqs) >= planned - 2
    rig = wait_for(lambda: httpx.get(service.url + "/api/rigs/rig1", timeout=60).json(), 30, "the rig")
    recovery = rig["recovery"]
    assert rig["device"]["next_seq"] == len(seqs)  # nothing the device took is missing
    assert (recovery["samples_missing"], recovery["samples_lost"]) == (0, 0), recovery

    waits = [c.longest_wait_s() for c in followers + pollers]
    print(f"\nload: {len(followers)} streams + {len(pollers)} pollers, {len(seqs)} samples "
          f"of {planned:.0f} planned in {wall_s:.1f} s of wall time "
          f"({len(seqs) / wall_s:.0f} samples/s)")
    for what, clients in (("stream", followers), ("run", pollers), ("samples", pollers)):
        print(f"load latency {what}: "
              + _figures([v for c in clients for v in c.latencies_s.get(what, [])]))
    print(f"load longest wait for data: {max(waits):.2f} s; "
          f"streams joined at seq {max(c.seqs[0] for c in followers)} at the latest")
    for seen in followers + pollers:
        # (How long a client waits for data depends on how busy the machine is: the waits
        # are printed, and bench_api measures the stream's latency.)
        assert seen.ended, f"{seen.name} never saw the end"
    for seen in followers:
        assert "resync" not in seen.kinds, seen.kinds
        first = seen.seqs[0]
        assert seen.seqs == list(range(first, len(seqs))), (
            f"{seen.name}: every sample once, in order, from where it joined")
