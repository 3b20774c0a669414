"""What the host last heard from a rig: firmware, state, flags, last sample (for the API)."""

from typing import Any

import numpy as np

from host.link import wire
from host.runkey import board_text, key_text
from protocol import names, schema

_RESET_NAMES = {schema.RESET_POWER_ON: "power_on", schema.RESET_WATCHDOG: "watchdog",
                schema.RESET_SOFT: "soft", schema.RESET_UNKNOWN: "unknown"}
_CAPABILITIES = {name[4:].lower(): getattr(schema, name) for name in dir(schema)
                 if name.startswith("CAP_")}
_CHANNEL_CAN = {name[4:].lower(): getattr(schema, name) for name in dir(schema)
                if name.startswith("CAN_")}


def _name(names: tuple[str, ...], index: int) -> str:
    return names[index] if 0 <= index < len(names) else f"unknown ({index})"


def channel_can(can: int) -> list[str]:
    """A channel's CAN_* bits as words: drive, photodiode, laser."""
    return sorted(name for name, bit in _CHANNEL_CAN.items() if can & bit)


def channel_dict(record: Any) -> dict[str, Any]:
    """One channel as the board last told it (HELLO_ACK or HEARTBEAT), JSON-ready."""
    return {
        "channel": record.channel,
        "can": channel_can(record.can),
        "state": _name(names.STATE_NAMES, record.state),
        "mode": _name(names.MODE_NAMES, record.mode),
        "run_key": key_text(record.run_key),
        "next_seq": record.next_seq,
        "output_on": bool(record.flags & schema.FLAG_OUTPUT_ON),
        "compliance": bool(record.flags & schema.FLAG_COMPLIANCE),
    }


def decode_flags(flags: int) -> dict[str, bool]:
    """Device flag bits (HEARTBEAT, STATUS, samples) as named booleans."""
    return {
        "output_on": bool(flags & schema.FLAG_OUTPUT_ON),
        "laser_on": bool(flags & schema.FLAG_LASER_ON),
        "shutter_open": bool(flags & schema.FLAG_SHUTTER_OPEN),
        "interlock_ok": bool(flags & schema.FLAG_INTERLOCK_OK),
    }


class DeviceView:
    """Updated by the link's I/O thread from HELLO_ACK, HEARTBEAT, STATUS and samples."""

    def __init__(self) -> None:
        self.hello: Any = None
        self.channels: list[Any] = []  # the last HELLO_ACK's or HEARTBEAT's channel records
        self.state = schema.STATE_IDLE
        self.mode = schema.MODE_NONE
        self.run_key = 0
        self.next_seq = 0
        self.next_event_seq = 0
        self.flags: int | None = None
        self.last_status: Any = None
        self.last_sample: np.ndarray | None = None  # one record, converted when asked
        self.heartbeat_at: float | None = None
        self.sample_at: float | None = None
        self.status_at: float | None = None

    def saw_hello(self, hello: Any) -> None:
        self.hello = hello
        self.channels = list(hello.records)
        channel = wire.channel_record(hello)
        self.state, self.mode, self.run_key = channel.state, channel.mode, channel.run_key
        self.next_seq, self.next_event_seq = channel.next_seq, hello.next_event_seq

    def saw_heartbeat(self, heartbeat: Any, now: float) -> None:
        self.channels = list(heartbeat.records)
        channel = wire.channel_record(heartbeat)
        self.state, self.mode, self.run_key = channel.state, channel.mode, channel.run_key
        self.flags = heartbeat.flags | channel.flags  # the rig's and the channel's
        self.next_seq, self.next_event_seq = channel.next_seq, heartbeat.next_event_seq
        self.heartbeat_at = now

    def saw_status(self, status: Any, now: float) -> None:
        self.last_status = status
        self.status_at = now
        self.state, self.mode, self.run_key = status.state, status.mode, status.run_key
        self.flags = status.flags

    def saw_samples(self, records: np.ndarray, now: float) -> None:
        if len(records):
            self.last_sample = records[-1:]
            self.sample_at = now

    def as_dict(self, now: float) -> dict[str, Any]:
        hello = self.hello
        firmware = board_id = reset_cause = None
        capabilities: list[str] = []
        if hello is not None:
            firmware = f"{hello.fw_major}.{hello.fw_minor}.{hello.fw_patch}"
            board_id = board_text(hello.board_id)
            reset_cause = _RESET_NAMES.get(hello.reset_cause, f"unknown ({hello.reset_cause})")
            capabilities = sorted(n for n, bit in _CAPABILITIES.items()
                                  if hello.capabilities & bit)
        return {
            "firmware_version": firmware,
            "board_id": board_id,
            "reset_cause": reset_cause,
            "capabilities": capabilities,
            "state": _name(names.STATE_NAMES, self.state),
            "mode": _name(names.MODE_NAMES, self.mode),
            "run_key": key_text(self.run_key),
            "next_seq": self.next_seq,
            "flags": None if self.flags is None else decode_flags(self.flags),
            # As the last STATUS gave it (None before any); STOP_RUN clears it on the rig.
            "fault": (None if self.last_status is None
                      else wire.fault_name(self.last_status.fault_code)),
            "last_sample": (None if self.last_sample is None
                            else wire.sample_dict(self.last_sample[0])),
            "last_sample_age_s": None if self.sample_at is None else round(now - self.sample_at, 3),
            "heartbeat_age_s": (None if self.heartbeat_at is None
                                else round(now - self.heartbeat_at, 3)),
            "status_age_s": None if self.status_at is None else round(now - self.status_at, 3),
            "ambient": self._ambient(now, "ambient" in capabilities),
            "channels": [channel_dict(c) for c in self.channels],
        }

    def _ambient(self, now: float, sensed: bool) -> dict[str, Any] | None:
        """Temperature and humidity from the newest of the last sample (during a run) and
        the last STATUS (an idle rig is asked every few seconds), with its age; None on a
        board without the sensor or before any reading."""
        if not sensed:
            return None
        readings = []  # (when, temperature_cc, humidity_cpct, source)
        if self.last_status is not None and self.status_at is not None:
            status = self.last_status
            readings.append((self.status_at, status.temperature_cc, status.humidity_cpct,
                             "status"))
        if self.last_sample is not None and self.sample_at is not None:
            sample = self.last_sample[0]
            readings.append((self.sample_at, int(sample["temperature_cc"]),
                             int(sample["humidity_cpct"]), "sample"))
        if not readings:
            return None
        at, temperature_cc, humidity_cpct, source = max(readings, key=lambda r: r[0])
        return {"temperature_c": temperature_cc / 100, "humidity_pct": humidity_cpct / 100,
                "age_s": round(now - at, 3), "source": source}
