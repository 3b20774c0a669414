"""API figures on a real `lumenrig serve` process: downsampled samples of a 10^6-sample run, and
the live stream's latency to 50 concurrent clients of a running accelerated run.

Downsampling: the run is stored in SQLite, then GET /api/runs/{id}/samples?max_points=2000 is
asked N times (median), beside the baseline measured in the same run: what the endpoint did
before host.plotting.cache (read every column of every row, LTTB, JSON), in-process, which must
give the same bytes. The service's CPU time per request comes from /proc (the machine is shared).

Live stream: 50 SSE clients follow a G1 lifetime run on the simulated rig; each samples event
carries `sent_at`, the service's wall clock when it published the stored batch, and each
client notes its own wall clock when the event arrives (same machine, same clock).
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench.bench_ingest import raw_records
from host.link.wire import SAMPLE_DTYPE
from host.plotting.downsample import lttb_indices
from host.runs.units import Converter
from host.store import Store
from host.store.columns import CSV_COLUMNS, json_rows
from tests.support.service_proc import AUTH, ServiceProcess

GOAL_DOWNSAMPLE_MS = 100
GOAL_SSE_P99_MS = 100
SHAPE = "pl"  # the samples are a photostability run's


def build_run(url: str, n_samples: int, batch_samples: int = 50_000) -> int:
    """A photostability run of n_samples in the store at url; returns its id."""
    converter = Converter("pl", None)
    records = np.frombuffer(raw_records(n_samples), SAMPLE_DTYPE)
    with Store(url) as store:
        store.upsert_rig("bench", "sim:film")
        run_id = store.create_run("bench", "photostability", {"duration_s": 7200}).id
        for start in range(0, n_samples, batch_samples):
            store.insert_samples(run_id, converter.columns(records[start:start + batch_samples]))
    return run_id


def baseline_body(url: str, run_id: int, max_points: int) -> bytes:
    """The endpoint's answer computed as it was before the cache: every column of every row."""
    with Store(url) as store:
        cols = store.read_samples(run_id)
        index = None
        if len(cols["seq"]) > max_points:
            index = lttb_indices(cols["t_s"], cols[SHAPE], max_points)
        rows = json_rows(cols, CSV_COLUMNS, index)
    return json.dumps({"run": run_id, "columns": list(CSV_COLUMNS), "rows": rows,
                       "total": int(len(cols["seq"]))}, allow_nan=False).encode()


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def downsample_figures(n_samples: int, requests: int, max_points: int
                       ) -> dict[str, dict[str, Any]]:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'api.sqlite'}"
        run_id = build_run(url, n_samples)
        t0 = time.perf_counter()
        expected = baseline_body(url, run_id, max_points)
        baseline_ms = (time.perf_counter() - t0) * 1e3
        service = ServiceProcess([], url, Path(folder)).start()
        try:
            path = f"{service.url}/api/runs/{run_id}/samples?max_points={max_points}"
            with httpx.Client(timeout=120) as client:
                t0 = time.perf_counter()
                first = client.get(path)
                cold_ms = (time.perf_counter() - t0) * 1e3
                assert first.status_code == 200, first.text
                assert first.content == expected, "the endpoint's answer changed"
                times = []
                cpu0 = process_cpu_s(service.proc.pid)
                for _ in range(requests):
                    t0 = time.perf_counter()
                    response = client.get(path)
                    times.append((time.perf_counter() - t0) * 1e3)
                    assert response.content == expected
                cpu_ms = (process_cpu_s(service.proc.pid) - cpu0) * 1e3 / requests
        finally:
            service.stop()
    median_ms = float(np.median(times))
    return {
        "api_downsample_ms": {"value": median_ms, "unit": f"ms (median of {requests})",
                              "goal": f"<= {GOAL_DOWNSAMPLE_MS}"},
        "api_downsample_cpu_ms": {"value": cpu_ms, "unit": "service CPU ms/request"},
        "api_downsample_first_ms": {"value": cold_ms, "unit": "ms (first: loads the cache)"},
        "api_downsample_baseline_ms": {"value": baseline_ms,
                                       "unit": "ms (every column read, in-process)"},
        "api_downsample_vs_baseline_ratio": {"value": baseline_ms / median_ms, "unit": "x"},
    }


class StreamClient:
    """One SSE client on a bare asyncio connection (the measuring end should cost little):
    latency of every samples event, and the seqs it carried."""

    def __init__(self) -> None:
        self.latencies_ms: list[float] = []
        self.seqs: list[int] = []
        self.kinds: dict[str, int] = {}
        self.measure_from: float | None = None  # wall time; set once every client is in

    async def follow(self, host: str, port: int, path: str, connected: asyncio.Event,
                     stop_after_s: float) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                         "Accept: text/event-stream\r\n\r\n".encode())
            head = (await reader.readuntil(b"\r\n\r\n")).decode().lower()
            assert head.startswith("http/1.1 200") and "chunked" in head, head
            deadline = time.monotonic() + stop_after_s
            pending = b""
            while time.monotonic() < deadline:
                size = int(await reader.readuntil(b"\r\n"), 16)  # chunked transfer coding
                if size == 0:
                    return
                chunk = await reader.readexactly(size + 2)
                received = time.time()
                pending += chunk[:-2]
                while b"\n\n" in pending:
                    event, pending = pending.split(b"\n\n", 1)
                    kind = self._event(event, received)
                    if kind == "run":
                        connected.set()  # the stream's first event: this client is in
                    elif kind == "end":
                        return
        finally:
            writer.close()

    def _event(self, text: bytes, received: float) -> str | None:
        kind, data = None, None
        for line in text.split(b"\n"):
            if line.startswith(b"event:"):
                kind = line[6:].strip().decode()
            elif line.startswith(b"data:"):
                data = line[5:]
        if kind is None:
            return None  # a keep-alive comment
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        if kind == "samples" and data is not None:
            payload = json.loads(data)
            if self.measure_from is not None and payload["sent_at"] >= self.measure_from:
                self.latencies_ms.append((received - payload["sent_at"]) * 1e3)
            self.seqs.extend(row[0] for row in payload["rows"])
        return kind


def sse_figures(n_clients: int, run_seconds: float, accel: int) -> dict[str, dict[str, Any]]:
    """Latency from publish to each of n_clients over run_seconds of a G1 lifetime run."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'sse.sqlite'}"
        service = ServiceProcess([f"sim:G1?accel={accel}&seed=1"], url, Path(folder)).start()
        try:
            response = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=30, json={
                "kind": "lifetime", "rig": "rig1",
                "params": {"voltage_v": 9.5, "sample_period_s": 1.0}})
            assert response.status_code == 201, response.text
            run_id = response.json()["id"]
            cpu0, t0 = process_cpu_s(service.proc.pid), time.perf_counter()
            clients = asyncio.run(_stream(service.url, run_id, n_clients, run_seconds))
            cpu_pct = (process_cpu_s(service.proc.pid) - cpu0) / (time.perf_counter() - t0) * 100
        finally:
            service.stop()
    latencies = np.concatenate([c.latencies_ms for c in clients])
    complete = sum(1 for c in clients if c.seqs and c.seqs == list(range(c.seqs[0],
                                                                         c.seqs[-1] + 1)))
    return {
        "sse_p99_ms": {"value": float(np.percentile(latencies, 99)),
                       "unit": f"ms publish->client, {n_clients} clients",
                       "goal": f"<= {GOAL_SSE_P99_MS}"},
        "sse_p50_ms": {"value": float(np.percentile(latencies, 50)), "unit": "ms"},
        "sse_max_ms": {"value": float(latencies.max()), "unit": "ms"},
        "sse_events_measured": {"value": int(len(latencies)),
                                "unit": f"samples events in {run_seconds:g} s ({accel}x run)"},
        "sse_clients_without_gaps": {"value": complete, "unit": f"of {n_clients}"},
        "sse_service_cpu_pct": {"value": cpu_pct, "unit": "% of a core (service process)"},
    }


async def _stream(base: str, run_id: int, n_clients: int, run_seconds: float
                  ) -> list[StreamClient]:
    url = httpx.URL(base)
    path = f"/api/runs/{run_id}/stream"
    clients = [StreamClient() for _ in range(n_clients)]
    connected = [asyncio.Event() for _ in clients]
    tasks = [asyncio.create_task(c.follow(url.host, url.port, path, e, run_seconds))
             for c, e in zip(clients, connected)]
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in connected)), 30)
    everyone_in = time.time()  # events published earlier met the connection burst
    for client in clients:
        client.measure_from = everyone_in
    await asyncio.wait_for(asyncio.gather(*tasks), run_seconds + 30)
    return clients


def run(n_samples: int = 1_000_000, requests: int = 15, max_points: int = 2000,
        n_clients: int = 50, sse_seconds: float = 8.0, accel: int = 100
        ) -> dict[str, dict[str, Any]]:
    figures = downsample_figures(n_samples, requests, max_points)
    figures.update(sse_figures(n_clients, sse_seconds, accel))
    return figures


if __name__ == "__main__":
    for key, figure in run().items():
        print(f"{key:36s} {figure['value']:12.4g} {figure['unit']}")
