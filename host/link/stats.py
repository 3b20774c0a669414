"""Link statistics of one rig, as the dict GET /api/rigs/{rig} shows."""

from typing import Any

from host.link.gaps import EventGaps, SampleGaps
from protocol.decoder import STAT_NAMES, StreamDecoder

COUNTERS = (
    "frames_sent", "bytes_sent", "heartbeats_sent", "commands_sent", "retries",
    "commands_failed", "late_replies", "bad_bodies", "samples_received", "samples_resent",
    "events_received", "event_resend_requests",
    "reconnects", "device_resets",
)
# Decoder drops other than CRC and framing errors.
OTHER_DROPS = ("oversize", "unknown_id", "schema_mismatch", "length_errors")


class LinkStats:
    """Counters kept by the link's I/O thread; decoders are replaced on reconnect and folded in."""

    def __init__(self) -> None:
        self.counts = dict.fromkeys(COUNTERS, 0)
        self._retired = dict.fromkeys(STAT_NAMES, 0)
        self.last_frame_at: float | None = None

    def add(self, name: str, n: int = 1) -> None:
        self.counts[name] += n

    def retire(self, decoder: StreamDecoder) -> None:
        """Keep a closed connection's decoder counts."""
        for name in STAT_NAMES:
            self._retired[name] += decoder.stats[name]

    def as_dict(self, decoder: StreamDecoder | None, samples: SampleGaps, events: EventGaps,
                now: float) -> dict[str, Any]:
        received = dict(self._retired)
        if decoder is not None:
            for name in STAT_NAMES:
                received[name] += decoder.stats[name]
        out: dict[str, Any] = {
            "frames": received["frames"],
            "bytes": received["bytes"],
            "crc_errors": received["crc_errors"],
            "framing_errors": received["framing_errors"],
            "other_drops": sum(received[name] for name in OTHER_DROPS),
        }
        out.update({name: received[name] for name in OTHER_DROPS})
        out.update(self.counts)
        out.update({
            "gaps_detected": samples.gaps_detected,
            "duplicate_samples": samples.duplicates,
            "event_gaps": events.gaps_detected,
            "events_lost": events.events_lost,
            "last_frame_age_s": (None if self.last_frame_at is None
                                 else round(now - self.last_frame_at, 3)),
        })
        return out
