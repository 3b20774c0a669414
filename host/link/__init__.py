"""The host's link to a rig: the one owner of its serial port (see session.RigLink)."""

from host.link.commands import (
    CommandRefused,
    CommandTimeout,
    DeviceReset,
    LinkClosed,
    LinkDown,
    LinkError,
    Reply,
    SchemaMismatch,
)
from host.link.deliveries import (
    Connected,
    DeviceEvent,
    Disconnected,
    EventsLost,
    GapDetected,
    HeartbeatSeen,
    LogLine,
    SampleBatch,
    StatusSeen,
)
from host.link.session import RigLink

__all__ = [
    "CommandRefused", "CommandTimeout", "Connected", "DeviceEvent", "DeviceReset", "Disconnected",
    "EventsLost", "GapDetected", "HeartbeatSeen", "LinkClosed", "LinkDown", "LinkError",
    "LogLine", "Reply", "RigLink", "SampleBatch", "SchemaMismatch", "StatusSeen",
]
