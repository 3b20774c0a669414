"""What a client can make the service hold is bounded: live streams cut a client that falls
behind (with a `resync` saying where its samples stop), request heads are capped, lists
leave calibrations out (real service, a simulated G1 at accel=max, loopback)."""

import asyncio
import json
import socket
from pathlib import Path

import httpx
import pytest

from host.api.httpbounds import HEAD_LIMIT_BYTES
from tests.support.service_proc import AUTH, ServiceProcess, wait_for

pytestmark = pytest.mark.micropython

STALLED_CLIENTS = 49  # never read while the run lasts
FAST_CLIENTS = 5
# Once behind, the slow client reads a window at a time with a pause between: each read
# lets one of the service's writes complete, so it is never taken for a stalled client
# (RESYNC_GRACE_S without a completed write) however little CPU a busy machine gives it.
SLOW_READ_BYTES = 65536
SLOW_PAUSE_S = 0.01
SAMPLES = 100_000
# l0_settle_s 0: the hold's samples start as soon as the setpoint has climbed (lumenfw/climb.py).
RUN = {"voltage_v": 10.0, "sample_period_s": 0.05, "stop_fraction": 0.01, "l0_settle_s": 0.0,
       "max_duration_s": SAMPLES * 0.05, "host_loss_grace_s": 60.0}
# What 50 clients through a 10^5-sample run may add to the service's idle figure, its peak
# (VmHWM) taken over the whole run, the run's end included (issue #20: 20 MB).  Each cut-off
# client leaves at most the hub's 1 MiB queued, shared when clients fell behind together:
# measured about +3 MB while the run lasts.  The peak comes at the run's end, when the
# finished run is read back (its columns, 4 MB, filled in place through a small SQLite page
# cache) and summarised (one record-long temporary at a time): +7.8 to +11.3 MB over nine
# runs on a 2-core machine shared with other test sessions (+16 to +24 MB before).
RSS_BOUND_MB = 20.0
HEAD_RSS_BOUND_MB = 20.0


def _rss_mb(pid: int, field: str = "VmRSS") -> float:
    """The process's resident memory now (VmRSS) or at its peak since the last reset (VmHWM)."""
    for line in Path("/proc/%d/status" % pid).read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no %s for pid %d" % (field, pid))


def _reset_peak(pid: int) -> None:
    """Start VmHWM afresh from the current RSS (Linux clear_refs), so no peak is missed
    between two looks."""
    Path("/proc/%d/clear_refs" % pid).write_text("5")


def _events(raw: bytes) -> list[tuple[str, object]]:
    """(kind, data) of every whole server-sent event in raw, comments left out."""
    out = []
    for block in raw.decode().split("\n\n"):
        kind = data = None
        for line in block.split("\n"):
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
        if kind is not None:
            out.append((kind, data))
    return out


def _seqs(events) -> list[int]:
    return [row[0] for kind, data in events if kind == "samples" for row in data["rows"]]


def _stream_request(port: int, run_id: int) -> bytes:
    return (b"GET /api/runs/%d/stream HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n"
            % (run_id, port))


async def _open_stalled(port: int, run_id: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a small window: stalls soon
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    await asyncio.get_running_loop().sock_sendall(sock, _stream_request(port, run_id))
    return sock


async def _read_to_eof(sock: socket.socket, pause_s: float = 0.0,
                       chunk: int = 65536) -> bytes:
    loop = asyncio.get_running_loop()
    parts = []
    while True:
        data = await loop.sock_recv(sock, chunk)
        if not data:
            return b"".join(parts)
        parts.append(data)
        if pause_s:
            await asyncio.sleep(pause_s)


async def _streams(url: str) -> dict:
    async with httpx.AsyncClient(timeout=30) as client:
        return (await client.get(url + "/api/health")).json()["streams"]


async def _slow(url: str, port: int, run_id: int) -> bytes:
    """Reads nothing until it is behind (the first stream client that is), then a little at
    a time. It must start reading within the service's RESYNC_GRACE_S of falling behind, so
    it asks on a connection of its own, kept open, as often as the service answers."""
    sock = await _open_stalled(port, run_id)
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            while (await client.get(url + "/api/health")).json()["streams"]["behind"] < 1:
                await asyncio.sleep(0.05)
        return await _read_to_eof(sock, SLOW_PAUSE_S, SLOW_READ_BYTES)
    finally:
        sock.close()


async def _fast(url: str, run_id: int) -> list[tuple[str, object]]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(30, read=120)) as client:
        async with client.stream("GET", "%s/api/runs/%d/stream" % (url, run_id)) as response:
            assert response.status_code == 200
            parts = [part async for part in response.aiter_bytes()]
    return _events(b"".join(parts))


@pytest.fixture
def service(tmp_path):
    proc = ServiceProcess(["sim:G1?accel=max&seed=5"],
                          "sqlite:///%s" % (tmp_path / "bounds.sqlite"), tmp_path).start()
    yield proc
    proc.stop()


def _body(raw: bytes) -> bytes:
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    assert b"transfer-encoding: chunked" in head.lower()
    out, rest = [], body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        out.append(rest[:size])
        rest = rest[size + 2:]
    return b"".join(out)


# Two runs of 100,000 samples through 55 stream clients: on a machine with no core to spare
# the whole of it took more than the suite's default 300 s (docs/reliability.md).
@pytest.mark.timeout(1200)
def test_slow_stream_clients_are_cut_off_with_a_resync_and_memory_stays_bounded(service):
    pid = service.proc.pid
    # The service's figure once it has taken one such run with stalled clients is its idle
    # figure: the same again, with a slow client too, must stay within RSS_BOUND_MB of it.
    async def warm_up():
        answer = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=30,
                            json={"kind": "lifetime", "rig": "rig1", "params": RUN})
        run_id = answer.json()["id"]
        stalled = [await _open_stalled(service.port, run_id) for _ in range(STALLED_CLIENTS)]
        async with httpx.AsyncClient(timeout=30) as client:
            while (await client.get("%s/api/runs/%d" % (service.url, run_id))).json()[
                    "state"] not in ("completed", "aborted", "failed"):
                await asyncio.sleep(0.5)
        for sock in stalled:
            await asyncio.wait_for(_read_to_eof(sock), 60)
            sock.close()

    asyncio.run(warm_up())
    idle_mb = _rss_mb(pid)
    _reset_peak(pid)

    async def scenario():
        answer = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=30,
                            json={"kind": "lifetime", "rig": "rig1", "params": RUN})
        assert answer.status_code == 201, answer.text
        run_id = answer.json()["id"]
        fast = [asyncio.create_task(_fast(service.url, run_id)) for _ in range(FAST_CLIENTS)]
        slow = asyncio.create_task(_slow(service.url, service.port, run_id))
        while (await _streams(service.url))["behind"] < 1:
            await asyncio.sleep(0.2)  # the slow one first: it alone is behind then
        stalled = [await _open_stalled(service.port, run_id) for _ in range(STALLED_CLIENTS)]
        async with httpx.AsyncClient(timeout=30) as client:
            while True:
                run = (await client.get("%s/api/runs/%d" % (service.url, run_id))).json()
                if run["state"] in ("completed", "aborted", "failed"):
                    break
                await asyncio.sleep(0.5)
        fast_events = await asyncio.gather(*fast)
        slow_raw = await slow
        stalled_raw = []
        for sock in stalled:  # read now: what the service kept for them, then the close
            stalled_raw.append(await asyncio.wait_for(_read_to_eof(sock), 60))
            sock.close()
        peak_mb = _rss_mb(pid, "VmHWM")  # the whole scenario, the run's summary included
        return run, peak_mb, fast_events, slow_raw, stalled_raw

    run, peak_mb, fast_events, slow_raw, stalled_raw = asyncio.run(scenario())
    print("\nbounds: RSS idle %.1f MB, peak %.1f MB with %d stalled clients and a slow one"
          % (idle_mb, peak_mb, STALLED_CLIENTS))
    assert peak_mb - idle_mb < RSS_BOUND_MB
    after_mb = wait_for(lambda: (lambda mb: mb if mb - idle_mb < RSS_BOUND_MB else None)(
        _rss_mb(pid)), 30, "memory to come back once the clients are gone")
    assert after_mb - idle_mb < RSS_BOUND_MB

    assert run["state"] == "completed", run
    stored = httpx.get("%s/api/runs/%d/samples" % (service.url, run["id"]), timeout=60).json()
    seqs = [row[0] for row in stored["rows"]]
    # The hold's samples start once the setpoint has climbed to 10 V (about 0.2 s: a few
    # of the 50 ms periods fewer than SAMPLES fit before max_duration_s).
    assert seqs == list(range(len(seqs))) and SAMPLES - 10 <= len(seqs), "every sample stored"

    for events in fast_events:  # a client that keeps up gets every sample, then the end
        assert _seqs(events) == seqs[seqs.index(_seqs(events)[0]):]
        assert events[-1][0] == "end" and not any(kind == "resync" for kind, _ in events)

    # behind by more than the bound: a resync where its samples stop
    events = _events(_body(slow_raw))
    kind, resync = events[-1]
    assert kind == "resync", [k for k, _ in events[-3:]]
    got = _seqs(events)
    assert got == list(range(got[0], resync["seq"])), "contiguous up to the resync"
    assert resync["dropped"] > 0
    rest = httpx.get("%s/api/runs/%d/samples?start_s=%r" % (service.url, run["id"],
                                                             resync["t_s"]),
                     timeout=60).json()["rows"]
    assert rest[0][0] == resync["seq"], "the samples endpoint gives the rest"

    cut = 0
    for raw in stalled_raw:  # each stream closed: cut off behind, or whole to the end
        events = _events(_body(raw))
        got = _seqs(events)
        if events[-1][0] == "end":
            assert got == seqs[seqs.index(got[0]):]
        else:
            cut += 1
            assert got == list(range(got[0], got[0] + len(got))), "contiguous while it lasted"
    print("\nbounds: %d of %d stalled clients cut off" % (cut, STALLED_CLIENTS))



def _send_head(port: int, head_bytes: int) -> bytes:
    """Send a request whose head is head_bytes long, in 16 kB writes, and return the
    answer; stops sending when the service answers or closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                     b"X-Filler: ")
        sent, piece = 0, b"a" * 16384
        try:
            while sent < head_bytes:
                sock.sendall(piece)
                sent += len(piece)
            sock.sendall(b"\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    return answer
                answer += data
                if b"\r\n\r\n" in answer and b"431" in answer.split(b"\r\n")[0]:
                    return answer
        except ConnectionResetError:
            return answer


def test_a_request_head_over_the_cap_is_431_and_one_under_it_is_served(tmp_path):
    service = ServiceProcess([], "sqlite:///%s" % (tmp_path / "heads.sqlite"),
                             tmp_path).start()
    try:
        assert _send_head(service.port, HEAD_LIMIT_BYTES // 2).startswith(b"HTTP/1.1 200")
        idle_mb = _rss_mb(service.proc.pid)
        for size in (HEAD_LIMIT_BYTES * 2, 32 * 1024 * 1024):
            assert _send_head(service.port, size).startswith(b"HTTP/1.1 431"), size
        socks = []  # 50 connections each sending an endless head, no token
        for _ in range(50):
            sock = socket.create_connection(("127.0.0.1", service.port), timeout=30)
            sock.sendall(b"GET / HTTP/1.1\r\nX-Filler: " + b"a" * (HEAD_LIMIT_BYTES + 1024))
            socks.append(sock)
        for sock in socks:
            assert sock.recv(100).startswith(b"HTTP/1.1 431")
            sock.close()
        assert _rss_mb(service.proc.pid) - idle_mb < HEAD_RSS_BOUND_MB
        assert httpx.get(service.url + "/api/health", timeout=60).status_code == 200
    finally:
        service.stop()


def test_runs_are_listed_without_their_calibration(tmp_path):
    service = ServiceProcess(["sim:G1?accel=max&seed=2"],
                             "sqlite:///%s" % (tmp_path / "list.sqlite"), tmp_path).start()
    try:
        answer = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=30, json={
            "kind": "lifetime", "rig": "rig1",
            "params": {"voltage_v": 10.0, "sample_period_s": 1.0, "max_duration_s": 5}})
        assert answer.status_code == 201, answer.text
        run = answer.json()
        assert run["calibration"]["pixel_area_mm2"] > 0, "one run shows its calibration"
        listed = httpx.get(service.url + "/api/runs", timeout=60).json()["runs"]
        assert [r["id"] for r in listed] == [run["id"]]
        assert "calibration" not in listed[0]
        wait_for(lambda: httpx.get("%s/api/runs/%d" % (service.url, run["id"]),
                                   timeout=60).json()["state"] == "completed", 60, "the end")
    finally:
        service.stop()
