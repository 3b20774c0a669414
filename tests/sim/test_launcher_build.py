"""The simulator runs the precompiled firmware build (hil_sim/fwbuild.py) by default, the
sources with source=py, on the heap a spec asks for; the run kinds complete on a tight heap."""

import time
from pathlib import Path

import pytest
import serial

from hil_sim import fwbuild
from hil_sim.launcher import SimRig
from hil_sim.spec import SimSpecError, parse_sim_spec
from protocol import frame, messages, names, schema
from protocol.decoder import StreamDecoder
from tests.support.fw_harness import start_run_head
from tests.support.fw_runs import RUNS
from tests.support.paths import REPO
from tests.support.waiting import wait_for

# The smallest heap, in steps of 32 kB, on which the three run kinds below complete on the
# 64-bit unix port, plus 64 kB. The Pico's ~190 kB is not reachable here: the same objects
# take about twice the bytes with 64-bit words and 32-byte GC blocks, and the simulator's
# own modules and chips share the heap (docs/firmware-build.md, "RAM").
TIGHT_HEAP = "448k"


def _loaded_from(rig):
    """The files the device log says the VM loaded main, lumenfw and protocol from."""
    line = wait_for(lambda: next((x for x in rig.log_text().splitlines()
                                  if x.startswith("lumenrig sim: firmware from ")), None),
                    timeout_s=30, what="the firmware's load line in the device log")
    return [Path(p) for p in line.split()[4:]]


@pytest.mark.parametrize("text, source, heap", [
    ("sim:G1", "mpy", None),
    ("sim:G1?source=py", "py", None),
    ("sim:G1?heap=192k", "mpy", "192k"),
    ("sim:G1?heap=2M&source=mpy", "mpy", "2m"),
    ("sim:G1?heap=196608", "mpy", "196608"),
])
def test_source_and_heap_are_read_from_a_spec(text, source, heap):
    spec = parse_sim_spec(text)
    assert (spec.source, spec.heap) == (source, heap)
    rig = spec.make_rig()
    assert (rig.source, rig.heap) == (source, heap)


@pytest.mark.parametrize("text, fragment", [
    ("sim:G1?source=pyc", "source must be one of mpy, py, got 'pyc'"),
    ("sim:G1?heap=192kb", "heap '192kb' is not a size"),
    ("sim:G1?heap=2g", "heap '2g' is not a size"),
    ("sim:G1?heap=-1k", "is not a size"),
    ("sim:G1?heap=0", "is not a size"),
    ("sim:G1?heap=", "is not a size"),
    ("sim:G1?heap=32k", "heap must be 64k to 1024m, got '32k'"),
    ("sim:G1?heap=2048m", "heap must be 64k to 1024m"),
    ("sim:G1?heap=1m&heap=2m", "given twice"),
])
def test_a_bad_source_or_heap_is_refused_with_a_message(text, fragment):
    with pytest.raises(SimSpecError) as err:
        parse_sim_spec(text)
    assert fragment in str(err.value)


def test_the_launcher_refuses_a_bad_heap_too():
    with pytest.raises(SimSpecError, match="not a size"):
        SimRig("G1", heap="lots")


def test_canonical_text_keeps_source_and_heap():
    spec = parse_sim_spec("sim:G1?heap=192K&source=py&accel=max")
    assert str(spec) == "sim:G1?accel=max&source=py&heap=192k"
    assert parse_sim_spec(str(spec)) == spec
    assert str(parse_sim_spec("sim:G1?source=mpy")) == "sim:G1"


@pytest.mark.micropython
def test_a_rig_runs_the_precompiled_build_by_default():
    with parse_sim_spec("sim:G1").make_rig() as rig:
        main, board, schema_file = _loaded_from(rig)
    assert main == fwbuild.BUILD_DIR / "main.py"  # the board's entry stays source
    assert board == fwbuild.BUILD_DIR / "lumenfw" / "board.mpy"
    assert schema_file == fwbuild.BUILD_DIR / "protocol" / "schema.mpy"
    # A package is one folder on the VM's path: every lumenfw and protocol module the
    # firmware imports comes from these folders, which hold nothing but .mpy.
    for package in ("lumenfw", "protocol"):
        files = list((fwbuild.BUILD_DIR / package).rglob("*.*"))
        assert files and {f.suffix for f in files} == {".mpy"}, package


@pytest.mark.micropython
def test_source_py_runs_the_sources():
    with parse_sim_spec("sim:G1?source=py").make_rig() as rig:
        loaded = _loaded_from(rig)
    assert loaded == [REPO / "firmware" / "main.py", REPO / "firmware" / "lumenfw" / "board.py",
                      REPO / "protocol" / "schema.py"]


@pytest.mark.micropython
def test_heap_in_a_spec_is_the_vm_heapsize():
    with parse_sim_spec("sim:G1?heap=2m").make_rig() as rig:
        _loaded_from(rig)  # booted
        argv = Path(f"/proc/{rig.pid}/cmdline").read_bytes().split(b"\0")
    assert argv[argv.index(b"-X") + 1] == b"heapsize=2m"


class _Host:
    """The host end: sends frames, decodes the device's as they come."""

    def __init__(self, port):
        self.port = serial.Serial(port, timeout=0.05)
        self.decoder = StreamDecoder()

    def send(self, msg_id, values):
        self.port.write(frame.build(msg_id, 0, messages.pack(msg_id, values)))

    def expect(self, accept, timeout_s, what):
        """The fields of the first frame accept(msg_id, fields) takes."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for msg_id, _, body in self.decoder.feed(self.port.read(65536)):
                fields = dict(zip(messages.field_names(msg_id), messages.unpack(msg_id, body)[0]))
                if accept(msg_id, fields):
                    return fields
        raise AssertionError(f"no {what} within {timeout_s} s")

    def event(self, code, timeout_s):
        return self.expect(lambda m, f: m == schema.EVENT and f["code"] == code, timeout_s,
                           f"EVENT {names.EVENT_NAMES[code]}")


@pytest.mark.micropython
@pytest.mark.parametrize("kind", sorted(RUNS))
def test_each_run_kind_completes_on_a_tight_heap(kind):
    run = RUNS[kind]
    spec = f"sim:{run.preset}?accel=max&seed={run.seed}&heap={TIGHT_HEAP}"
    with parse_sim_spec(spec).make_rig(restart_delay_s=30) as rig:
        host = _Host(rig.port)
        try:
            host.send(schema.HELLO, (0x5EED, schema.SCHEMA_HASH, 1))
            host.send(schema.START_RUN, start_run_head(run_key=7, **run.fields))
            try:
                started = host.event(schema.EV_RUN_STARTED, timeout_s=30)
                stopped = host.event(schema.EV_RUN_STOPPED, timeout_s=120)
            except AssertionError as exc:  # say what the board did meanwhile
                raise AssertionError("%s; %d crash(es); the rig's log ends:\n%s" % (
                    exc, rig.crashes, rig.log_text()[-4000:])) from None
            host.send(schema.GET_STATUS, (2, 0))
            status = host.expect(lambda m, f: m == schema.STATUS and f["cmd_id"] == 2, 10,
                                 "STATUS")
        finally:
            host.port.close()
        assert rig.crashes == 0, rig.log_text()[-2000:]  # a MemoryError is a crash
    assert (started["run_key"], stopped["run_key"]) == (7, 7)
    assert stopped["value"] == run.stop_reason, names.STOP_NAMES[stopped["value"]]
    earliest_s, latest_s = run.stops_within_s
    assert earliest_s <= stopped["t_s"] + stopped["t_us"] / 1e6 <= latest_s
    assert status["state"] == schema.STATE_IDLE and status["stop_reason"] == run.stop_reason
    assert status["next_seq"] >= int(earliest_s * 1000 / run.fields["sample_period_ms"])
