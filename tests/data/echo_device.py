"""Test stand-in device for the launcher (MicroPython): echoes its host link (stdin) to stdout.

Like the sim board it keeps the device time in the state file ({"t_us": ...} first line,
replaced every 20 ms of wall time), continuing from it after a restart. On start it writes
one line `BOOT <preset> <accel> <t_us at boot> <reset cause>`. A line `crash` makes it
raise (a device crash: traceback, exit status 1); a line `boot?` repeats the BOOT line
(it goes out whether or not the host has opened the port yet); a line `interlock?` answers
`interlock <first byte of the interlock file>`.  Its clock halts at LUMENRIG_SIM_STOPS_US as
the sim board's does (state written, "stop T" on the notify FIFO, wait for a release byte).
"""

import json
import os
import select
import sys
import time

inp = sys.stdin.buffer
out = sys.stdout.buffer
state_path = os.getenv("LUMENRIG_SIM_STATE")
accel = float(os.getenv("LUMENRIG_SIM_ACCEL"))
start_us = 0
try:
    with open(state_path) as f:
        start_us = json.loads(f.readline())["t_us"]
except (OSError, ValueError, KeyError):
    pass
wall0_ms = time.ticks_ms()


def save_state():
    t_us = start_us + int(time.ticks_diff(time.ticks_ms(), wall0_ms) * 1000 * accel)
    with open(state_path + ".tmp", "w") as f:
        f.write(json.dumps({"t_us": t_us}) + "\n")
    os.rename(state_path + ".tmp", state_path)  # atomic: a kill never leaves half a file


stops = sorted(int(t) for t in (os.getenv("LUMENRIG_SIM_STOPS_US") or "").split(",") if t)
stops = [t for t in stops if t > start_us]
fifos = {}


def halt_at_stops():
    """Halt at each stop the clock has passed: the clock is set to the stop, then waits."""
    global start_us, wall0_ms
    while stops and start_us + int(time.ticks_diff(time.ticks_ms(), wall0_ms) * 1000 * accel) \
            >= stops[0]:
        start_us = stops.pop(0)
        wall0_ms = time.ticks_ms()
        save_state()
        if not fifos:
            notify_path, release_path = os.getenv("LUMENRIG_SIM_STOP_FIFOS").split(",")
            fifos["notify"] = open(notify_path, "wb")
            fifos["release"] = open(release_path, "rb")
        fifos["notify"].write(b"stop %d\n" % start_us)
        fifos["notify"].flush()
        fifos["release"].read(1)
        wall0_ms = time.ticks_ms()


save_state()
BOOT_LINE = b"BOOT %s %s %d %s\n" % (os.getenv("LUMENRIG_SIM_PRESET"),
                                     os.getenv("LUMENRIG_SIM_ACCEL"), start_us,
                                     os.getenv("LUMENRIG_SIM_RESET_CAUSE") or "-")
out.write(BOOT_LINE)
poller = select.poll()
poller.register(inp, select.POLLIN)
one = bytearray(1)
line = bytearray()
while True:
    ready = poller.poll(20)
    halt_at_stops()
    save_state()
    if not ready:
        continue
    # readinto on a blocking stream fills the whole buffer: take one byte per poll.
    got = bytearray()
    while len(got) < 4096 and poller.poll(0):
        if not inp.readinto(one):
            sys.exit(0)
        got.append(one[0])
    out.write(got)
    for byte in got:
        if byte != 10:
            line.append(byte)
            continue
        if line == b"crash":
            raise RuntimeError("crash requested by the host")
        if line == b"boot?":  # the boot line again, for a host that opened the port late
            out.write(BOOT_LINE)
        if line == b"interlock?":
            with open(os.getenv("LUMENRIG_SIM_INTERLOCK"), "rb") as f:
                out.write(b"interlock " + f.read(1) + b"\n")
        line = bytearray()
