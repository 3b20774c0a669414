"""The one schema of every message between the rig firmware and the host.

Plain MicroPython-compatible data: the firmware packs with it, the host derives its
pydantic models and numpy dtypes from it, and its hash travels in HELLO so two ends
built from different schemas refuse each other.

A field is (name, struct_code, unit, scale): physical value = raw * scale.  Every field
on the device side is an integer, because floats allocate on MicroPython.
"""

import struct

PROTOCOL_VERSION = 5

# Frame limits (bytes).  The raw frame is [version][msg_id][seq u16][body][crc u16].
HEADER_SIZE = 4
CRC_SIZE = 2
MAX_BODY = 300
MAX_RAW = HEADER_SIZE + MAX_BODY + CRC_SIZE
MAX_WIRE = MAX_RAW + MAX_RAW // 254 + 3  # COBS overhead plus a 0x00 delimiter on each side
MAX_SAMPLES_PER_BATCH = 8
# A rig has 1 to MAX_CHANNELS channels (pixels), numbered from 0: each its own supply,
# meter and photodiode, and its own run (key, seq stream, share of the sample ring).
MAX_CHANNELS = 8
CHANNEL_RIG = 255  # EVENT.channel of an event about the rig as a whole (boot, interlock, host)

# Message ids.
HELLO = 1
HELLO_ACK = 2
HEARTBEAT = 3
START_RUN = 4
STOP_RUN = 5
SET_OUTPUT = 6
SHUTTER = 7
GET_STATUS = 8
STATUS = 9
RESEND = 10
ACK = 11
NACK = 12
SAMPLE_BATCH = 13
EVENT = 14
LOG = 15
RESEND_EVENTS = 16
SELF_TEST = 17
SELF_TEST_RESULT = 18

# Device states.
STATE_IDLE = 0
STATE_RUNNING = 1
STATE_SAFE_STOP = 2
STATE_FAULT = 3

# Run modes.
MODE_NONE = 0
MODE_CONSTANT_VOLTAGE = 1
MODE_CONSTANT_CURRENT = 2
MODE_SWEEP = 3
MODE_PHOTOSTABILITY = 4

# Why a run stopped (STATUS.stop_reason, EVENT value of RUN_STOPPED / SAFE_STOP).
STOP_NONE = 0
STOP_COMPLETED = 1
STOP_LUMINANCE_FRACTION = 2
STOP_MAX_DURATION = 3
STOP_HOST_ABORT = 4
STOP_COMPLIANCE = 5
STOP_INTERLOCK = 6
STOP_HOST_LOST = 7
STOP_EXCEPTION = 8
STOP_RESET = 9
STOP_I2C_FAULT = 10
STOP_TARGET_UNREACHED = 11
STOP_SHUTTER_FAULT = 12
# Stop reasons that are safety actions (the device went to SAFE_STOP or FAULT).
SAFETY_STOPS = (
    STOP_COMPLIANCE, STOP_INTERLOCK, STOP_HOST_LOST, STOP_EXCEPTION, STOP_RESET,
    STOP_I2C_FAULT, STOP_SHUTTER_FAULT,
)

# Event codes (EVENT.code); EVENT.value meaning is given beside each.
EV_BOOT = 1  # value: reset cause (RESET_*)
EV_STATE = 2  # value: new state
EV_RUN_STARTED = 3  # value: mode
EV_RUN_STOPPED = 4  # value: stop reason
EV_SAFE_STOP = 5  # value: stop reason
EV_INTERLOCK_OPEN = 6
EV_INTERLOCK_CLOSED = 7
EV_COMPLIANCE = 8  # value: current_na
EV_HOST_LOST = 9  # value: ms since last host frame
EV_HOST_BACK = 10
EV_SHUTTER_OPENED = 11
EV_SHUTTER_CLOSED = 12
EV_SHUTTER_FAULT = 13  # value: ms the shutter failed to reach its position
EV_L0_CAPTURED = 14  # value: pd_pa
EV_TARGET_REACHED = 15  # value: setpoint_mv
EV_EXCEPTION = 16  # value: fault code
EV_I2C_ERROR = 17  # value: I2C address
EV_OUTPUT_ON = 18  # value: the setpoint_mv it is on its way to (the climb's target)
EV_OUTPUT_OFF = 19
EV_LASER_ON = 20
EV_LASER_OFF = 21
EV_DARK_BEGIN = 22  # value: dark_ms; the drive is off (or the shutter closing) from here
EV_DARK_END = 23  # value: the pause's mean dark reading, pA; the drive is back from here

# Fault codes (STATUS.fault_code, EV_EXCEPTION value, NACK_FAULTED detail).
FAULT_NONE = 0
FAULT_I2C = 1  # OSError from the I2C bus (EV_I2C_ERROR carries the address)
FAULT_MEMORY = 2  # MemoryError
FAULT_SOFTWARE = 3  # any other exception (a LOG frame carries its text)

# Reset causes (EV_BOOT value, HELLO_ACK.reset_cause).
RESET_POWER_ON = 0
RESET_WATCHDOG = 1
RESET_SOFT = 2
RESET_UNKNOWN = 3

# NACK codes.
NACK_UNKNOWN_MESSAGE = 1
NACK_BUSY = 2  # detail: the active run's key
NACK_OUT_OF_RANGE = 3  # detail: index of the offending field in the command body
NACK_INTERLOCK_OPEN = 4
NACK_NOT_IN_RING = 5  # detail: oldest seq still held
NACK_FAULTED = 6  # detail: fault code
NACK_BAD_RUN_KEY = 7  # detail: the key of the run the device holds
NACK_MALFORMED = 8
NACK_NO_SESSION = 9  # no HELLO with a matching schema hash yet

# Sample flag bits (SAMPLE.flags) and device flag bits (STATUS.flags, HEARTBEAT.flags).
FLAG_OUTPUT_ON = 1
FLAG_LASER_ON = 2
FLAG_SHUTTER_OPEN = 4  # from the shutter-closed switch: set when the switch is not closed
FLAG_INTERLOCK_OK = 8
FLAG_PL_POINT = 16  # a scheduled photoluminescence point of a photostability run
FLAG_COMPLIANCE = 32  # current at or above compliance in this sample
FLAG_PD_SATURATED = 64  # photodiode saturated on its least sensitive range
FLAG_STEP_END = 128  # last (settled) sample of a sweep step
# Sample flags only (STATUS.flags and HEARTBEAT.flags stay one byte):
FLAG_L0 = 256  # the sample L0 is taken from: the first of the hold, l0_settle_ms after it began
FLAG_RAMP = 512  # taken before the hold began (approach to a luminance or current target)
FLAG_DARK = 1024  # taken in a dark pause (drive off or shutter closed): a dark-current reading

# SAMPLE_BATCH.flags bits.
BATCH_RESENT = 1

# Capability bits (HELLO_ACK.capabilities).
CAP_CONSTANT_VOLTAGE = 1
CAP_CONSTANT_CURRENT = 2
CAP_SWEEP = 4
CAP_PHOTOSTABILITY = 8
CAP_LASER = 16
CAP_SHUTTER_SWITCH = 32
CAP_AMBIENT = 64
CAP_WATCHDOG = 128

# What a channel can do (HELLO_ACK's channel records, .can).
CAN_DRIVE = 1  # a supply and a meter: CV, CC and sweep runs
CAN_PHOTODIODE = 2  # a photodiode: luminance (L0, the fraction stop, luminance targets)
CAN_LASER = 4  # the laser and shutter point at it: photostability runs

# Self-test scopes (SELF_TEST.scope).
SELFTEST_QUICK = 0  # nothing moves: the bus, each chip's identity and read-backs, interlock, supply
SELFTEST_FULL = 1  # the quick checks, then the shutter's travel and every range's dark current

# Self-test checks (SELF_TEST_RESULT record.check); value, low and high as given beside each.
CHK_I2C_SCAN = 1  # value: I2C_BIT_* of the expected chips that answer (the rig's and the
# checked channel's: with cards, its card joined on the mux); low = high = all of them
CHK_INA226_MANUFACTURER = 2  # value: register 0xFE; low = high = 0x5449 ("TI")
CHK_INA226_DIE = 3  # value: register 0xFF; low = high = 0x2260
CHK_SHT31_STATUS = 4  # value: status word (CRC checked); high: the error bits that must be 0
CHK_SHT31_SERIAL = 5  # value: serial number, u32 sent as its i32 (both words CRC checked)
CHK_DAC_READBACK = 6  # value: DAC code read back after writing 0 V, relay open; low = high = 0
CHK_ADS1115_CONFIG = 7  # value: config register read back; low = high = the word written, idle
CHK_INTERLOCK = 8  # value: 1 loop closed, 0 open; low = high = 1
CHK_SUPPLY_OFFSET = 9  # value: nA the INA226 reads with the relay open; low..high: its offset
CHK_SHUTTER_OPEN = 10  # value: ms until the closed switch released; high: the shutter timeout
CHK_SHUTTER_CLOSE = 11  # value: ms until the closed switch was made; high: the same
CHK_DARK_RANGE = 16  # + photodiode range index: value: dark pA on that range; low..high: limit
I2C_BIT_DAC = 1
I2C_BIT_INA226 = 2
I2C_BIT_ADS1115 = 4
I2C_BIT_SHT31 = 8
I2C_BIT_MUX = 16  # a board of channel cards: the TCA9548A
I2C_BIT_CARD_IO = 32  # the checked channel's card: its PCA9554

# A check's outcome (record.state), and what record.detail adds (0: nothing).
CHECK_SKIPPED = 0
CHECK_PASS = 1
CHECK_FAIL = 2
DETAIL_NONE = 0
DETAIL_NO_ANSWER = 1  # the chip did not answer on the bus; value: the errno
DETAIL_CRC = 2  # the chip's CRC did not match its data
DETAIL_TIMEOUT = 3  # it did not happen within high; value: what was waited
DETAIL_NOT_AT_START = 4  # the part was not where the check starts from (the shutter open)
DETAIL_NOT_FITTED = 5  # skipped: the board has no such part
DETAIL_INTERLOCK_OPEN = 6  # skipped: the interlock loop is open, so the shutter stays put



def _field(name, code, unit=""):
    """(name, struct_code, unit, scale) of one field.  Built by a call, not written as a
    literal tuple: mpy-cross folds literal tuples into the module's constants, which the board
    would keep as long as the module (9 kB more heap), beside the table built from them."""
    return (name, code, unit, 1)


def struct_format(fields):
    """Little-endian struct format of a field list, without padding."""
    return "<" + "".join(f[1] for f in fields)


# One telemetry sample: 33 bytes, integers only.  The device packs it positionally in this
# order (lumenfw/ring.py, protocol/writer.py); everyone else reads it by name.
SAMPLE_FIELDS = (
    _field("seq", "I"),
    _field("t_s", "I", "s"),
    _field("t_us", "I", "us"),  # microseconds within t_s (0..999999)
    _field("setpoint_mv", "H", "mV"),
    _field("voltage_mv", "i", "mV"),
    _field("current_na", "i", "nA"),
    _field("pd_pa", "i", "pA"),  # photodiode current, dark offset not removed
    _field("temperature_cc", "h", "centi-degC"),
    _field("humidity_cpct", "H", "centi-%RH"),
    _field("pd_range", "B"),
    _field("flags", "H"),
)
SAMPLE_NAMES = tuple(f[0] for f in SAMPLE_FIELDS)
SAMPLE_FORMAT = struct_format(SAMPLE_FIELDS)
SAMPLE_SIZE = struct.calcsize(SAMPLE_FORMAT)

# One self-test check: 15 bytes (the result fits one frame with every check of a board with
# up to 8 photodiode ranges).
SELFTEST_FIELDS = (
    _field("check", "B"),
    _field("state", "B"),
    _field("detail", "B"),
    _field("value", "i"),  # unit: as the check says (code, nA, ms, pA)
    _field("low", "i"),
    _field("high", "i"),
)
MAX_SELFTEST_RECORDS = 19

# One channel as HELLO_ACK and HEARTBEAT tell it: 17 bytes, one record per channel.  flags:
# the channel's own (FLAG_OUTPUT_ON, FLAG_COMPLIANCE, FLAG_PD_SATURATED); run_key, mode and
# next_seq stay after its run ends, so the host can still fetch the run's tail.
CHANNEL_FIELDS = (
    _field("channel", "B"),
    _field("can", "B"),  # CAN_* bits
    _field("state", "B"),
    _field("mode", "B"),
    _field("flags", "B"),
    _field("run_key", "Q"),
    _field("next_seq", "I"),
)

_CMD = _field("cmd_id", "H")
_CHANNEL = _field("channel", "B")
# A run's identity on the wire: a random nonzero 63-bit key the host draws for each run, so
# no two runs share one across databases, services or hosts. The device keeps it with every
# sample, event and status of the run; 0 means no run.
_RUN_KEY = _field("run_key", "Q")

# (msg_id, name, head fields, tail).  tail is None, ("records", fields, max_count)
# or ("bytes", max_len).  Every command body starts with cmd_id.
MESSAGES: tuple = (
    (HELLO, "HELLO", (
        _field("session_id", "I"),
        _field("schema_hash", "I"),
        _field("host_version", "H"),
    ), None),
    (HELLO_ACK, "HELLO_ACK", (
        _field("session_id", "I"),
        _field("schema_hash", "I"),
        _field("fw_major", "B"),
        _field("fw_minor", "B"),
        _field("fw_patch", "B"),
        _field("reset_cause", "B"),
        _field("board_id", "Q"),
        _field("capabilities", "I"),
        _field("next_event_seq", "H"),
    ), ("records", CHANNEL_FIELDS, MAX_CHANNELS)),
    # flags: the rig's (laser, shutter, interlock); each channel record has its own.
    (HEARTBEAT, "HEARTBEAT", (
        _field("flags", "B"),
        _field("next_event_seq", "H"),
    ), ("records", CHANNEL_FIELDS, MAX_CHANNELS)),
    (START_RUN, "START_RUN", (
        _CMD,
        _RUN_KEY,
        _CHANNEL,
        _field("mode", "B"),
        _field("setpoint_mv", "H", "mV"),  # hold voltage, sweep start, or ramp ceiling
        _field("stop_mv", "H", "mV"),  # sweep stop
        _field("step_mv", "H", "mV"),  # sweep step, or ramp step for a luminance target
        _field("target_pd_pa", "I", "pA"),  # ramp until the photodiode reaches this; 0 = off
        _field("dark_pd_pa", "i", "pA"),  # host's dark offset, removed before fraction checks
        _field("target_current_na", "I", "nA"),  # constant-current mode
        _field("compliance_na", "I", "nA"),
        _field("sample_period_ms", "I", "ms"),
        _field("dwell_ms", "I", "ms"),  # sweep step dwell, or ramp step dwell
        _field("oversample", "B"),
        _field("stop_fraction_pm", "H", "per-mille"),  # of L0; 0 = off
        _field("l0_settle_ms", "I", "ms"),  # L0 is captured this long after the hold starts
        _field("max_duration_s", "I", "s"),
        _field("host_loss_grace_ms", "I", "ms"),
        _field("pl_interval_s", "I", "s"),
        _field("laser", "B"),
        # Continuing a run after a device reset: seq and run clock pick up where the stored
        # data ends, and L0 is the one already captured (0 = a new run, capture L0 anew).
        _field("resume_seq", "I"),
        _field("resume_t_ms", "I", "ms"),
        _field("l0_pd_pa", "i", "pA"),
        # Dark tracking: every dark_every_s of drive, dark_ms with the drive off (or the
        # shutter closed), the run starting with one such pause; 0 = off.
        _field("dark_every_s", "H", "s"),
        _field("dark_ms", "H", "ms"),
    ), None),
    (STOP_RUN, "STOP_RUN", (
        _CMD,
        _RUN_KEY,
        _CHANNEL,
    ), None),
    (SET_OUTPUT, "SET_OUTPUT", (
        _CMD,
        _CHANNEL,
        _field("setpoint_mv", "H", "mV"),
        _field("enable", "B"),
    ), None),
    (SHUTTER, "SHUTTER", (
        _CMD,
        _field("open", "B"),
        _field("laser", "B"),
    ), None),
    (GET_STATUS, "GET_STATUS", (
        _CMD,
        _CHANNEL,
    ), None),
    (STATUS, "STATUS", (
        _CMD,
        _CHANNEL,
        _field("state", "B"),
        _field("mode", "B"),
        _RUN_KEY,
        _field("next_seq", "I"),
        _field("oldest_seq", "I"),
        _field("setpoint_mv", "H", "mV"),
        _field("voltage_mv", "i", "mV"),
        _field("current_na", "i", "nA"),
        _field("pd_pa", "i", "pA"),
        _field("l0_pd_pa", "i", "pA"),
        _field("temperature_cc", "h", "centi-degC"),
        _field("humidity_cpct", "H", "centi-%RH"),
        _field("flags", "B"),
        _field("stop_reason", "B"),
        _field("fault_code", "H"),
        _field("uptime_s", "I", "s"),
    ), None),
    (RESEND, "RESEND", (
        _CMD,
        _RUN_KEY,
        _CHANNEL,
        _field("from_seq", "I"),
        _field("to_seq", "I"),  # inclusive
    ), None),
    (ACK, "ACK", (
        _CMD,
        _field("of_msg", "B"),
    ), None),
    (NACK, "NACK", (
        _CMD,
        _field("of_msg", "B"),
        _field("code", "B"),
        _field("detail", "q"),
    ), None),
    (SAMPLE_BATCH, "SAMPLE_BATCH", (
        _RUN_KEY,
        _CHANNEL,
        _field("flags", "B"),
    ), ("records", SAMPLE_FIELDS, MAX_SAMPLES_PER_BATCH)),
    (EVENT, "EVENT", (
        _field("event_seq", "H"),
        _field("code", "H"),
        _RUN_KEY,
        _CHANNEL,  # CHANNEL_RIG for the rig as a whole
        _field("t_s", "I", "s"),
        _field("t_us", "I", "us"),
        _field("value", "i"),
        _field("state", "B"),
    ), None),
    (LOG, "LOG", (
        _field("level", "B"),
    ), ("bytes", 200)),
    (RESEND_EVENTS, "RESEND_EVENTS", (
        _CMD,
        _field("from_event_seq", "H"),
    ), None),
    (SELF_TEST, "SELF_TEST", (
        _CMD,
        _CHANNEL,  # the channel whose front end (card) is checked; the rig's parts with
        # the laser's channel
        _field("scope", "B"),  # SELFTEST_QUICK or SELFTEST_FULL
    ), None),
    # The answer to SELF_TEST (NACK_BUSY during a run): one record per check done.
    (SELF_TEST_RESULT, "SELF_TEST_RESULT", (
        _CMD,
        _CHANNEL,
        _field("scope", "B"),
        _field("failed", "B"),  # records with state CHECK_FAIL
        _field("fault", "B"),  # FAULT_* of an exception that ended the test early, else 0
    ), ("records", SELFTEST_FIELDS, MAX_SELFTEST_RECORDS)),
)

# Host -> device messages that carry a cmd_id and are answered with ACK or NACK.
COMMANDS = (START_RUN, STOP_RUN, SET_OUTPUT, SHUTTER, GET_STATUS, RESEND, RESEND_EVENTS,
            SELF_TEST)
# Device -> host answers to a command, besides ACK and NACK (each carries the cmd_id first).
REPLIES = (ACK, NACK, STATUS, SELF_TEST_RESULT)


def _fnv1a_32(text):
    """FNV-1a over the UTF-8 bytes of text; masks each step so it runs on 32-bit ports."""
    h = 0x811C9DC5
    for byte in text.encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h


def canonical_text():
    """The schema as one line of text: what the hash is taken over."""
    parts = ["v%d" % PROTOCOL_VERSION]
    for msg_id, name, fields, tail in MESSAGES:
        part = "%d:%s:" % (msg_id, name) + ",".join(f[0] + "/" + f[1] for f in fields)
        if tail is not None:
            if tail[0] == "records":
                part += "|records*%d:" % tail[2] + ",".join(f[0] + "/" + f[1] for f in tail[1])
            else:
                part += "|bytes*%d" % tail[1]
        parts.append(part)
    return ";".join(parts)


SCHEMA_HASH = _fnv1a_32(canonical_text())

BY_ID: dict = {}
for _entry in MESSAGES:
    BY_ID[_entry[0]] = _entry
