"""The words for the schema's numbers: device states, run modes, stop reasons, events, faults,
NACK codes and self-test outcomes, as the host shows and logs them.

Apart from protocol/schema.py because the board never sends text: a board that imported
these tables would hold about 9 kB of heap for nothing. Each table covers every constant of
its kind in the schema (tests/protocol/test_protocol_names.py).
"""

from protocol.schema import (
    EV_BOOT,
    EV_COMPLIANCE,
    EV_DARK_BEGIN,
    EV_DARK_END,
    EV_EXCEPTION,
    EV_HOST_BACK,
    EV_HOST_LOST,
    EV_I2C_ERROR,
    EV_INTERLOCK_CLOSED,
    EV_INTERLOCK_OPEN,
    EV_L0_CAPTURED,
    EV_LASER_OFF,
    EV_LASER_ON,
    EV_OUTPUT_OFF,
    EV_OUTPUT_ON,
    EV_RUN_STARTED,
    EV_RUN_STOPPED,
    EV_SAFE_STOP,
    EV_SHUTTER_CLOSED,
    EV_SHUTTER_FAULT,
    EV_SHUTTER_OPENED,
    EV_STATE,
    EV_TARGET_REACHED,
    NACK_BAD_RUN_KEY,
    NACK_BUSY,
    NACK_FAULTED,
    NACK_INTERLOCK_OPEN,
    NACK_MALFORMED,
    NACK_NO_SESSION,
    NACK_NOT_IN_RING,
    NACK_OUT_OF_RANGE,
    NACK_UNKNOWN_MESSAGE,
)

# index = schema.STATE_*
STATE_NAMES = ("idle", "running", "safe_stop", "fault")

# index = schema.MODE_*
MODE_NAMES = ("none", "constant_voltage", "constant_current", "sweep", "photostability")

# index = schema.STOP_*
STOP_NAMES = (
    "none", "completed", "luminance_fraction", "max_duration", "host_abort", "compliance",
    "interlock", "host_lost", "exception", "reset", "i2c_fault", "target_unreached",
    "shutter_fault",
)

# schema.EV_* -> name
EVENT_NAMES = {
    EV_BOOT: "boot", EV_STATE: "state", EV_RUN_STARTED: "run_started",
    EV_RUN_STOPPED: "run_stopped", EV_SAFE_STOP: "safe_stop",
    EV_INTERLOCK_OPEN: "interlock_open", EV_INTERLOCK_CLOSED: "interlock_closed",
    EV_COMPLIANCE: "compliance", EV_HOST_LOST: "host_lost", EV_HOST_BACK: "host_back",
    EV_SHUTTER_OPENED: "shutter_opened", EV_SHUTTER_CLOSED: "shutter_closed",
    EV_SHUTTER_FAULT: "shutter_fault", EV_L0_CAPTURED: "l0_captured",
    EV_TARGET_REACHED: "target_reached", EV_EXCEPTION: "exception",
    EV_I2C_ERROR: "i2c_error", EV_OUTPUT_ON: "output_on", EV_OUTPUT_OFF: "output_off",
    EV_LASER_ON: "laser_on", EV_LASER_OFF: "laser_off", EV_DARK_BEGIN: "dark_begin",
    EV_DARK_END: "dark_end",
}

# index = schema.FAULT_*
FAULT_NAMES = ("none", "i2c", "memory", "software")

# schema.NACK_* -> name
NACK_NAMES = {
    NACK_UNKNOWN_MESSAGE: "unknown_message", NACK_BUSY: "busy",
    NACK_OUT_OF_RANGE: "out_of_range", NACK_INTERLOCK_OPEN: "interlock_open",
    NACK_NOT_IN_RING: "not_in_ring", NACK_FAULTED: "faulted",
    NACK_BAD_RUN_KEY: "bad_run_key", NACK_MALFORMED: "malformed",
    NACK_NO_SESSION: "no_session",
}

# index = schema.CHECK_* (a self-test check's state)
CHECK_STATE_NAMES = ("skipped", "pass", "fail")
