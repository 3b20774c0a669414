"""Hostile input, one table across four fronts: HTTP API, CLI, configuration, serial link.

Every bad input gets a clear error (a status and a message naming what is wrong, or a
non-zero exit with one line) or is dropped and counted. After each one the service still
answers /api/health, and what it had stored (a finished run's record, samples and summary,
the rig's calibration, the list of runs) is unchanged; on the serial link the real firmware
(MicroPython unix port, behind a pty) still answers, has not faulted, and still resends the
same samples of its finished run.
"""

import os
import random
import socket
import struct
import subprocess

import httpx
import pytest

from hil_sim.launcher import SimRig
from protocol import cobs, frame, messages, schema
from protocol.crc import crc16
from tests.support.fw_harness import start_run_head
from tests.support.ptyhost import PtyHost
from tests.support.service_proc import AUTH, LUMENRIG, TOKEN, ServiceProcess, free_port, wait_for

MiB = 1024 * 1024


# ---- the service under attack, with one finished run ------------------------------------

@pytest.fixture(scope="module")
def service(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("hostile")
    proc = ServiceProcess(["sim:G1?accel=100&seed=5"], "sqlite:///%s" % (data_dir / "h.sqlite"),
                          data_dir).start()
    sweep = {"start_v": 8, "stop_v": 11, "step_v": 0.5, "dwell_s": 0.5}
    response = httpx.post(proc.url + "/api/runs", headers=AUTH, timeout=30,
                          json={"kind": "jvl", "rig": "rig1", "params": sweep})
    assert response.status_code == 201, response.text
    run_id = response.json()["id"]
    wait_for(lambda: httpx.get(f"{proc.url}/api/runs/{run_id}", timeout=60).json()["state"] == "completed",
             60, "the reference run to complete")
    proc.run_id = run_id
    proc.client = httpx.Client(base_url=proc.url, timeout=30)  # one pool for the checks
    yield proc
    proc.client.close()
    proc.stop()


def _stored(client, run_id):
    """Everything a hostile request must not change."""
    run = client.get(f"/api/runs/{run_id}").json()
    samples = client.get(f"/api/runs/{run_id}/samples").json()
    calibration = client.get("/api/rigs/rig1").json()["calibration"]
    runs = [(r["id"], r["state"]) for r in client.get("/api/runs").json()["runs"]]
    return run, samples, calibration, runs


@pytest.fixture
def unchanged(service):
    """Yields the service; afterwards it must be healthy with its store as it was."""
    before = _stored(service.client, service.run_id)
    assert before[0]["summary"] and len(before[1]["rows"]) > 10
    yield service
    health = service.client.get("/api/health").json()
    assert health["status"] == "ok" and health["rigs"] == {"rig1": True}, health
    assert _stored(service.client, service.run_id) == before


# ---- HTTP API ---------------------------------------------------------------------------

def _run_body(kind="lifetime", rig="rig1", **params):
    return {"kind": kind, "rig": rig, "params": params}


def _chunks(total, size=64 * 1024):
    """A body sent in chunks with no Content-Length (Transfer-Encoding: chunked)."""
    for _ in range(total // size):
        yield b"x" * size


def _deep_json(depth):
    return b"[" * depth + b"]" * depth


# (id, method, path, request options, expected status, fragment of the detail)
HTTP_CASES = [
    ("type: voltage as text", "POST", "/api/runs",
     {"json": _run_body(voltage_v="ten")}, 422, "params.voltage_v"),
    ("type: kind as a list", "POST", "/api/runs",
     {"json": {"kind": ["lifetime"], "params": {"voltage_v": 5}}}, 422, "kind"),
    ("type: params as text", "POST", "/api/runs",
     {"json": {"kind": "lifetime", "params": "voltage_v=5"}}, 422, "params"),
    ("type: body is a JSON array", "POST", "/api/runs", {"json": [1, 2]}, 422, "body"),
    ("type: body is not JSON", "POST", "/api/runs",
     {"content": b"{not json", "headers": {"content-type": "application/json"}}, 422, ""),
    ("range: voltage above the board's 19.995 V", "POST", "/api/runs",
     {"json": _run_body(voltage_v=25)}, 422, "params.voltage_v"),
    ("range: NaN voltage", "POST", "/api/runs",
     {"content": b'{"kind":"lifetime","params":{"voltage_v":NaN}}',
      "headers": {"content-type": "application/json"}}, 422, "params.voltage_v"),
    ("range: infinite duration", "POST", "/api/runs",
     {"content": b'{"kind":"lifetime","params":{"voltage_v":5,"max_duration_s":Infinity}}',
      "headers": {"content-type": "application/json"}}, 422, "params.max_duration_s"),
    ("range: host-loss grace below one second", "POST", "/api/runs",
     {"json": _run_body(voltage_v=5, host_loss_grace_s=0.5)}, 422, "host_loss_grace_s"),
    ("range: compliance above the board's 4 mA", "POST", "/api/runs",
     {"json": _run_body(voltage_v=5, compliance_a=1.0)}, 422, "params.compliance_a"),
    ("range: sweep that ends below its start", "POST", "/api/runs",
     {"json": _run_body("jvl", start_v=5, stop_v=3)}, 422, "stop_v must be above start_v"),
    ("range: NaN in a spectrum", "POST", "/api/runs",
     {"content": b'{"kind":"jvl","params":{"spectrum":{"wavelength_nm":[500,510,520],'
                 b'"intensity":[NaN,1,1]}}}',
      "headers": {"content-type": "application/json"}}, 422, "finite"),
    ("huge body, declared", "POST", "/api/runs",
     {"content": b"x" * (3 * MiB), "headers": {"content-type": "application/json"}},
     413, "larger than"),
    ("huge body, chunked", "POST", "/api/runs",
     {"content": _chunks(3 * MiB), "headers": {"content-type": "application/json"}},
     413, "larger than"),
    ("JSON nested 100000 deep", "POST", "/api/runs",
     {"content": _deep_json(100_000), "headers": {"content-type": "application/json"}},
     400, "pars"),
    ("unknown field in params", "POST", "/api/runs",
     {"json": _run_body(voltage_v=5, colour="green")}, 422, "unknown field"),
    ("unknown top-level field", "POST", "/api/runs",
     {"json": dict(_run_body(voltage_v=5), priority="high")}, 422, "unknown field"),
    ("wrong token", "POST", "/api/runs",
     {"json": _run_body(voltage_v=5), "auth": "Bearer " + TOKEN[:-1] + "X"}, 401,
     "wrong bearer token"),
    ("no token on abort", "POST", "/api/runs/1/abort", {"auth": None}, 401,
     "missing bearer token"),
    ("token in a Basic header", "PUT", "/api/rigs/rig1/calibration",
     {"json": {}, "auth": "Basic " + TOKEN}, 401, "bearer token"),
    ("bad calibration", "PUT", "/api/rigs/rig1/calibration",
     {"json": {"pixel_area_mm2": -1}}, 422, "pixel_area_mm2"),
    ("abort of a finished run", "POST", "/api/runs/{run}/abort", {}, 409, "already completed"),
    ("query: max_points not a number", "GET", "/api/runs/{run}/samples?max_points=abc", {},
     422, "max_points"),
    ("query: max_points below 3", "GET", "/api/runs/{run}/samples?max_points=1", {}, 422,
     "max_points"),
    ("query: end_s before start_s", "GET", "/api/runs/{run}/samples?start_s=5&end_s=1", {},
     422, "end_s"),
    ("query: unknown run state", "GET", "/api/runs?state=bogus", {}, 422, "state"),
    ("query: limit 0", "GET", "/api/runs?limit=0", {}, 422, "limit"),
    ("run id beyond the store's keys", "GET", "/api/runs/99999999999999999999/samples.csv", {},
     422, "run_id"),
    ("run id beyond the store's keys, on abort", "POST", "/api/runs/2147483648/abort", {},
     422, "run_id"),
    ("run id not a number", "GET", "/api/runs/1;DROP TABLE runs/stream", {}, 422, "run_id"),
    ("path: encoded traversal as a rig name", "GET", "/api/rigs/..%2F..%2Fetc%2Fpasswd", {},
     404, ""),
    ("path: NUL in a rig name", "GET", "/api/rigs/rig1%00", {}, 404, "no rig named"),
    ("path: traversal in a run's rig", "POST", "/api/runs",
     {"json": _run_body(rig="../etc", voltage_v=5)}, 422, "rig"),
    ("path: rig name of 65 characters", "POST", "/api/runs",
     {"json": _run_body(rig="a" * 65, voltage_v=5)}, 422, "rig"),
]


@pytest.mark.parametrize("case", HTTP_CASES, ids=[c[0] for c in HTTP_CASES])
def test_http_hostile_request_gets_a_clear_error_and_changes_nothing(unchanged, case):
    _, method, path, options, status, fragment = case
    options = dict(options)
    headers = dict(options.pop("headers", {}))
    auth = options.pop("auth", AUTH["Authorization"])
    if auth is not None:
        headers["Authorization"] = auth
    path = path.replace("{run}", str(unchanged.run_id))
    response = unchanged.client.request(method, path, headers=headers, **options)
    assert response.status_code == status, response.text[:500]
    detail = response.json()["detail"]
    assert isinstance(detail, str) and fragment in detail


def test_http_boolean_for_a_voltage_is_refused(service):
    response = httpx.post(service.url + "/api/runs", headers=AUTH, timeout=30,
                          json=_run_body(voltage_v=True))
    if response.status_code == 201:  # it started a run at 1 V: stop it before failing
        httpx.post("%s/api/runs/%d/abort" % (service.url, response.json()["id"]),
                   headers=AUTH, timeout=30)
        wait_for(lambda: httpx.get(service.url + "/api/rigs/rig1", timeout=60).json()["active_run"]
                 is None, 30, "the rig to be free")
    assert response.status_code == 422, response.text[:300]


def _raw_http(port, request):
    """Send request bytes as they are (no client normalising the path); (status, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


RAW_CASES = [
    ("path: ../ to /etc/passwd through the dashboard's files",
     b"GET /static/../../../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    ("path: encoded ../ through the dashboard's files",
     b"GET /static/..%2F..%2F..%2Fetc%2Fpasswd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"),
    ("negative Content-Length",
     b"POST /api/runs HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\nConnection: close\r\n\r\n"),
]


@pytest.mark.parametrize("case", RAW_CASES, ids=[c[0] for c in RAW_CASES])
def test_raw_http_hostile_request_is_refused_and_changes_nothing(unchanged, case):
    port = int(unchanged.url.rsplit(":", 1)[1])
    status, body = _raw_http(port, case[1])
    assert status in (400, 404), body[:300]
    assert b"root:" not in body


# ---- CLI and configuration ----------------------------------------------------------------

def _cli(args, cwd, token=TOKEN, timeout_s=60):
    env = {k: v for k, v in os.environ.items() if k != "LUMENRIG_TOKEN"}
    if token is not None:
        env["LUMENRIG_TOKEN"] = token
    return subprocess.run([str(LUMENRIG), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout_s)


def _cli_files(folder):
    (folder / "binary.csv").write_bytes(b"\xff\xfe" + random.Random(1).randbytes(2000))
    (folder / "words.csv").write_text("t_s,luminance_cd_m2\n0,100\n1,abc\n2,50\n")
    short = folder / "short-token"
    short.mkdir(exist_ok=True)
    (short / "token").write_text("short\n")


# (id, argv with {url}, {dir} and {port} filled in, token, fragment of the error line)
CLI_CASES = [
    ("flag: unknown option", ["serve", "--bogus"], TOKEN, "No such option"),
    ("flag: port out of range", ["serve", "--port", "70000"], TOKEN, "--port"),
    ("flag: port not a number", ["serve", "--port", "abc"], TOKEN, "--port"),
    ("analyze: missing file", ["analyze", "{dir}/nope.csv", "--kind", "lifetime"], TOKEN,
     "nope.csv: no such file"),
    ("analyze: binary file", ["analyze", "{dir}/binary.csv", "--kind", "lifetime"], TOKEN,
     "not UTF-8"),
    ("analyze: text where a number goes", ["analyze", "{dir}/words.csv", "--kind", "lifetime"],
     TOKEN, "line 3"),
    ("analyze: unknown kind", ["analyze", "{dir}/words.csv", "--kind", "bake"], TOKEN,
     "--kind must be one of"),
    ("rig: name with a space", ["serve", "--rig", "a b=sim:G1", "--data-dir", "{dir}"], TOKEN,
     "a rig name is"),
    ("rig: name used twice", ["serve", "--rig", "a=sim:G1", "--rig", "a=sim:G2",
                              "--data-dir", "{dir}"], TOKEN, "used twice"),
    ("rig: empty spec", ["serve", "--rig", "a=", "--data-dir", "{dir}"], TOKEN,
     "spec after the name is empty"),
    ("db: unsupported URL", ["serve", "--db", "mysql://u@h/d", "--data-dir", "{dir}"], TOKEN,
     "--db must be"),
    ("db: unparseable URL", ["serve", "--db", "postgresql+psycopg://[::1", "--data-dir", "{dir}",
                             "--port", "{port}"], TOKEN, "is not a database URL"),
    ("db: server down", ["serve", "--db", "postgresql+psycopg://postgres:pw@127.0.0.1:1/test",
                         "--data-dir", "{dir}", "--port", "{port}"], TOKEN,
     "cannot open the database postgresql+psycopg://postgres:***@127.0.0.1:1/test"),
    ("bind: non-loopback without LUMENRIG_TOKEN", ["serve", "--host", "0.0.0.0",
                                                   "--data-dir", "{dir}"], None,
     "refusing to bind 0.0.0.0"),
    ("run: out of range through the service", ["run", "lifetime", "-p", "voltage_v=50",
                                               "--server", "{url}"], TOKEN,
     "params.voltage_v"),
    ("run: wrong token", ["run", "lifetime", "-p", "voltage_v=5", "--server", "{url}"],
     "wrong-token-0123456789", "wrong bearer token"),
    ("export: run id beyond the store's keys", ["export", "2147483648", "--server", "{url}"],
     TOKEN, "run_id"),
    ("config: LUMENRIG_TOKEN too short", ["serve", "--data-dir", "{dir}"], "short",
     "shorter than 16"),
    ("config: token file too short", ["serve", "--data-dir", "{dir}/short-token"], None,
     "shorter than 16"),
    ("config: unknown sim preset", ["serve", "--rig", "sim:G9", "--data-dir", "{dir}"], TOKEN,
     "unknown preset 'G9'"),
    ("config: fault grammar", ["serve", "--rig", "sim:G1?faults=cut=300s", "--data-dir",
                               "{dir}"], TOKEN, "cut needs AT+DURATION"),
    ("config: sim accel 0", ["serve", "--rig", "sim:G1?accel=0", "--data-dir", "{dir}"], TOKEN,
     "accel"),
    ("config: probability above 1 for lumenrig sim", ["sim", "--faults", "drop=2"], TOKEN,
     "drop is a probability"),
]


@pytest.mark.parametrize("case", CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_hostile_input_exits_non_zero_with_one_clear_line(unchanged, tmp_path, case):
    _, argv, token, fragment = case
    _cli_files(tmp_path)
    fill = {"{url}": unchanged.url, "{dir}": str(tmp_path), "{port}": str(free_port())}
    args = []
    for arg in argv:
        for key, value in fill.items():
            arg = arg.replace(key, value)
        args.append(arg)
    result = _cli(args, cwd=tmp_path, token=token)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output[-2000:]
    assert fragment in " ".join(output.split()), output[-2000:]
    assert "Traceback" not in output


# ---- serial link: the real firmware on the MicroPython VM ---------------------------------

# firmware/main.py with the link's drop counters written to stderr whenever they change.
COUNTING_MAIN = r'''
import sys

from lumenfw import device as device_module

_step = device_module.Device.step
_last = [None]


def counted_step(self):
    _step(self)
    link = self.link
    stats = link.decoder.stats
    counts = "oversize=%d crc_errors=%d framing_errors=%d unknown_id=%d schema_mismatch=%d " \
        "length_errors=%d ignored_frames=%d commands_executed=%d" % (
            stats["oversize"], stats["crc_errors"], stats["framing_errors"],
            stats["unknown_id"], stats["schema_mismatch"], stats["length_errors"],
            link.ignored_frames, link.commands_executed)
    if counts != _last[0]:
        _last[0] = counts
        sys.stderr.write("COUNTS " + counts + "\n")


device_module.Device.step = counted_step
from hil_sim import unix_main  # noqa: E402

unix_main.main()  # firmware/main.py on the simulated board, looping forever
'''

DEVICE_RUN = 61


class Device:
    """A host's end of the pty to the firmware: commands with fresh ids, replies, counters."""

    def __init__(self, rig):
        self.rig = rig
        self.host = PtyHost(rig.port)
        self.cmd_id = 100
        self.session_id = 0x5EED

    def close(self):
        self.host.close()

    def next_id(self):
        self.cmd_id += 1
        return self.cmd_id

    def write(self, data):
        self.host.port.write(data)

    def reply(self, msg_id, values, cmd_id=None):
        """Send a command (values after cmd_id) and wait for its reply: (msg_id, head)."""
        cmd_id = self.next_id() if cmd_id is None else cmd_id
        self.write(frame.build(msg_id, 0, messages.pack(msg_id, (cmd_id, *values))))
        found = self.host.wait(lambda m, h: m in (schema.ACK, schema.NACK, schema.STATUS)
                               and h[0] == cmd_id, what=f"the reply to cmd {cmd_id}")
        return found[1], found[2]

    def hello(self, schema_hash=schema.SCHEMA_HASH):
        self.session_id += 1
        self.write(b"\x00")
        self.write(frame.build(schema.HELLO, 0, messages.pack(
            schema.HELLO, (self.session_id, schema_hash, 1))))
        return self.host.wait(lambda m, h: m == schema.HELLO_ACK and h[0] == self.session_id,
                              what="HELLO_ACK")[2]

    def status(self):
        msg_id, head = self.reply(schema.GET_STATUS, (0,))
        assert msg_id == schema.STATUS, (msg_id, head)
        return dict(zip(messages.field_names(schema.STATUS), head))

    def resent(self, run_key, last_seq):
        """The samples the device still holds of a run, as it resends them."""
        since = len(self.host.frames()[0])
        msg_id, _ = self.reply(schema.RESEND, (run_key, 0, 0, last_seq))
        assert msg_id == schema.ACK
        return [r for _, m, h, tail in self.host.frames()[0][since:]
                if m == schema.SAMPLE_BATCH and h[2] & schema.BATCH_RESENT for r in tail]

    def counts(self):
        lines = [line for line in self.rig.log_text().splitlines() if line.startswith("COUNTS ")]
        return {k: int(v) for k, v in (kv.split("=") for kv in lines[-1].split()[1:])}


@pytest.fixture(scope="module")
def device(tmp_path_factory):
    script = tmp_path_factory.mktemp("counting") / "counting_main.py"
    script.write_text(COUNTING_MAIN)
    with SimRig("G1", accel=10, seed=4, script=script) as rig:
        dev = Device(rig)
        try:
            dev.host.wait(lambda m, h: m == schema.HEARTBEAT, what="a heartbeat")
            dev.hello()
            head = start_run_head(cmd_id=dev.next_id(), run_key=DEVICE_RUN, setpoint_mv=10000,
                                  sample_period_ms=100, max_duration_s=2)
            dev.write(frame.build(schema.START_RUN, 0, messages.pack(schema.START_RUN, head)))
            dev.host.wait(lambda m, h: m == schema.EVENT and h[1] == schema.EV_RUN_STOPPED,
                          what="the reference run to end")
            dev.last_seq = dev.status()["next_seq"] - 1
            assert dev.last_seq >= 10
            yield dev
        finally:
            dev.close()


@pytest.fixture
def device_unchanged(device):
    """The device answers afterwards, unfaulted and idle, with its finished run intact."""
    before = device.resent(DEVICE_RUN, device.last_seq)
    assert len(before) == device.last_seq + 1
    yield device
    device.write(b"\x00")  # whatever a case left half-sent ends here
    device.hello()
    status = device.status()
    assert status["state"] == schema.STATE_IDLE and status["fault_code"] == 0, status
    assert status["flags"] & (schema.FLAG_OUTPUT_ON | schema.FLAG_LASER_ON) == 0
    assert device.resent(DEVICE_RUN, device.last_seq) == before


def _raw_frame(msg_id, body, version=schema.PROTOCOL_VERSION):
    """A frame as frame.build makes it, but with any version and message id."""
    raw = bytearray(struct.pack("<BBH", version, msg_id, 0)) + body
    raw += struct.pack("<H", crc16(raw))
    return b"\x00" + cobs.encode(bytes(raw)) + b"\x00"


def _get_status_frame(cmd_id):
    return frame.build(schema.GET_STATUS, 0, messages.pack(schema.GET_STATUS, (cmd_id, 0)))


DROPS = ("oversize", "crc_errors", "framing_errors", "unknown_id", "schema_mismatch",
         "length_errors")


def _drop(names, data, at_least=1):
    """A case: data is dropped and counted under `names` (at least at_least drops); nothing
    is answered for it."""
    names = (names,) if isinstance(names, str) else names

    def total(counts):
        return sum(counts[name] for name in names)

    def case(device):
        before = total(device.counts())
        device.write(data(device) if callable(data) else data)
        wait_for(lambda: total(device.counts()) - before >= at_least, 30,
                 f"{'+'.join(names)} to count the drop")
        return total(device.counts()) - before
    return case


def _flipped_crc(device):
    wire = bytearray(_get_status_frame(device.next_id()))
    wire[-2] ^= 0x01 if wire[-2] not in (0x00, 0x01) else 0x02  # never make a 0x00
    return bytes(wire)


def _garbage(device):
    return random.Random(7).randbytes(64 * 1024)


def _nack(msg_id, values, code, detail=None):
    """A case: the command is refused with NACK code (and detail, when given)."""
    def case(device):
        reply, head = device.reply(msg_id, values)
        assert reply == schema.NACK and head[2] == code, head
        if detail is not None:
            assert head[3] == detail, head
        return head
    return case


def _start_run(**fields):
    head = start_run_head(cmd_id=0, run_key=DEVICE_RUN + 1, **fields)
    return head[1:]


def _field(name):
    return messages.field_names(schema.START_RUN).index(name)


def _wrong_schema_hash(device):
    ack = device.hello(schema_hash=schema.SCHEMA_HASH ^ 0xFFFF)
    assert ack[1] == schema.SCHEMA_HASH  # the device says which schema it speaks
    reply, head = device.reply(schema.GET_STATUS, (0,))
    assert reply == schema.NACK and head[2] == schema.NACK_NO_SESSION
    return head


def _replayed_command(device):
    """SET_OUTPUT on, off, then the 'on' again with its old cmd_id: the cached ACK comes
    back and the output stays off."""
    on_id = device.next_id()
    assert device.reply(schema.SET_OUTPUT, (0, 5000, 1), cmd_id=on_id)[0] == schema.ACK
    assert device.reply(schema.SET_OUTPUT, (0, 0, 0))[0] == schema.ACK
    executed = device.counts()["commands_executed"]
    assert device.reply(schema.SET_OUTPUT, (0, 5000, 1), cmd_id=on_id)[0] == schema.ACK
    assert device.status()["flags"] & schema.FLAG_OUTPUT_ON == 0
    assert device.counts()["commands_executed"] == executed + 1  # the GET_STATUS only
    return on_id


SERIAL_CASES = [
    ("oversize frame", _drop("oversize", b"\x00" + b"\x55" * 1000 + b"\x00")),
    ("flood of 64 KiB of garbage", _drop(DROPS, _garbage, at_least=100)),  # ~256 blocks
    ("frame with a bad CRC", _drop("crc_errors", _flipped_crc)),
    ("frame of another protocol version", _drop("schema_mismatch", lambda d: _raw_frame(
        schema.GET_STATUS, struct.pack("<H", d.next_id()), version=schema.PROTOCOL_VERSION + 1))),
    ("unknown message id", _drop("unknown_id", _raw_frame(200, b"\x01\x00"))),
    ("command body too short", _drop("length_errors", _raw_frame(schema.START_RUN, b"\x01"))),
    ("device-to-host message sent to the device", _drop("ignored_frames", frame.build(
        schema.EVENT, 0, messages.pack(schema.EVENT, (0, schema.EV_INTERLOCK_OPEN, 0, 0, 0, 0,
                                                      0, 0))))),
    ("HELLO with another schema hash", _wrong_schema_hash),
    ("replayed command id", _replayed_command),
    ("START_RUN at 25 V", _nack(schema.START_RUN, _start_run(setpoint_mv=25000),
                                schema.NACK_OUT_OF_RANGE, _field("setpoint_mv"))),
    ("START_RUN with 5 mA compliance", _nack(
        schema.START_RUN, _start_run(compliance_na=5_000_000), schema.NACK_OUT_OF_RANGE,
        _field("compliance_na"))),
    ("START_RUN sampling every 1 ms", _nack(
        schema.START_RUN, _start_run(sample_period_ms=1), schema.NACK_OUT_OF_RANGE,
        _field("sample_period_ms"))),
    ("START_RUN with a 0.5 s host-loss grace", _nack(
        schema.START_RUN, _start_run(host_loss_grace_ms=500), schema.NACK_OUT_OF_RANGE,
        _field("host_loss_grace_ms"))),
    ("SET_OUTPUT at 25 V", _nack(schema.SET_OUTPUT, (0, 25000, 1), schema.NACK_OUT_OF_RANGE, 2)),
    ("RESEND with to before from", _nack(schema.RESEND, (DEVICE_RUN, 0, 5, 1),
                                         schema.NACK_OUT_OF_RANGE, 4)),
    ("START_RUN on channel 1 of a one-channel rig", _nack(
        schema.START_RUN, _start_run(channel=1), schema.NACK_OUT_OF_RANGE, _field("channel"))),
    ("GET_STATUS of channel 7 of a one-channel rig", _nack(
        schema.GET_STATUS, (7,), schema.NACK_OUT_OF_RANGE, 1)),
    ("STOP_RUN on channel 255", _nack(schema.STOP_RUN, (0, 255), schema.NACK_OUT_OF_RANGE, 2)),
    ("START_RUN of an unknown mode", _nack(schema.START_RUN, _start_run(mode=9),
                                           schema.NACK_OUT_OF_RANGE, _field("mode"))),
]


@pytest.mark.micropython
@pytest.mark.parametrize("case", SERIAL_CASES, ids=[c[0] for c in SERIAL_CASES])
def test_serial_hostile_input_is_refused_or_dropped_and_counted(device_unchanged, case):
    assert case[1](device_unchanged)

