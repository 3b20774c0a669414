"""Commands to a rig: cmd_id allocation, replies, retry deadlines and readable errors."""

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from host.link.wire import fault_name
from host.runkey import key_text
from protocol import names, schema


class LinkError(Exception):
    """Base of every error the link raises to a caller."""


class LinkDown(LinkError):
    """The rig was not connected for long enough to send the command."""


class LinkClosed(LinkError):
    """The link was closed by its owner."""


class CommandTimeout(LinkError):
    """No reply after every try (each try re-sent the same cmd_id)."""


class DeviceReset(LinkError):
    """The rig reset while the command was in flight: a try may have been carried out by the
    board before its reset, so the command is not sent again to the board that came back
    (a START_RUN sent again would start the run over from its first sample)."""


class SchemaMismatch(LinkError):
    """The firmware speaks another wire schema; the link refuses to talk to it."""


class CommandRefused(LinkError):
    """The rig answered NACK (raised only by Reply.raise_for_error())."""

    def __init__(self, reply: "Reply") -> None:
        super().__init__(reply.error)
        self.reply = reply


def _field_name(msg_id: int, index: int) -> str:
    fields = schema.BY_ID[msg_id][2]
    return fields[index][0] if 0 <= index < len(fields) else f"field #{index}"


def describe_nack(command: str, msg_id: int, code: int, detail: int,
                  sent: dict[str, int] | None = None) -> str:
    """One sentence a person can act on, from a NACK's code and detail."""
    name = names.NACK_NAMES.get(code, f"code {code}")
    text = f"{command} refused by the rig: {name}"
    if code == schema.NACK_OUT_OF_RANGE:
        field_name = _field_name(msg_id, detail)
        value = (sent or {}).get(field_name)
        shown = "" if value is None else f" = {value}"
        text += f" ({field_name}{shown} is outside the board's limits)"
    elif code == schema.NACK_BUSY:
        text += f" (the run with key {key_text(detail)} is active on it; stop it first)"
    elif code == schema.NACK_NOT_IN_RING:
        text += f" (the oldest sample the rig still holds is seq {detail})"
    elif code == schema.NACK_FAULTED:
        text += f" (the rig is in FAULT, {fault_name(detail)} fault; STOP_RUN clears it)"
    elif code == schema.NACK_BAD_RUN_KEY:
        text += f" (the rig holds the run with key {key_text(detail)})"
    elif code == schema.NACK_INTERLOCK_OPEN:
        text += " (close the interlock loop first)"
    elif code == schema.NACK_NO_SESSION:
        text += " (no handshake with a matching schema)"
    return text


@dataclass(frozen=True)
class Reply:
    """The rig's answer to one command: an Ack, Nack or Status model."""

    command: str
    msg_id: int  # of the command
    cmd_id: int
    message: Any  # the Ack, Nack or Status model (host.link.wire), fields as attributes
    tries: int
    sent: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.message.msg_id != schema.NACK

    @property
    def error(self) -> str | None:
        """Readable reason of a NACK, None for ACK or STATUS."""
        if self.ok:
            return None
        msg: Any = self.message
        return describe_nack(self.command, self.msg_id, msg.code, msg.detail, self.sent)

    def raise_for_error(self) -> "Reply":
        """Return self, or raise CommandRefused when the rig answered NACK."""
        if not self.ok:
            raise CommandRefused(self)
        return self


@dataclass
class Pending:
    """One command between submission and its reply; owned by the link's I/O thread."""

    cmd_id: int
    msg_id: int
    name: str
    body: bytes
    fields: dict[str, int]
    timeout_s: float
    tries_max: int
    wait_s: float  # how long it may wait for a connection before its first try
    submitted_at: float
    on_done: Callable[[Reply | None, LinkError | None], None]
    tries: int = 0
    no_session_tries: int = 0  # tries the rig answered NACK_NO_SESSION: not carried out
    first_sent_at: float | None = None
    last_sent_at: float | None = None

    def deadline(self) -> float:
        if self.first_sent_at is None:
            return self.submitted_at + self.wait_s
        return self.first_sent_at + self.timeout_s * self.tries_max

    def due(self, now: float) -> bool:
        """True when it should go on the wire now (first try, or a retry after timeout_s)."""
        if self.tries >= self.tries_max:
            return False
        return self.last_sent_at is None or now - self.last_sent_at >= self.timeout_s

    def failure(self, rig: str, link_state: str) -> LinkError:
        if self.tries == 0:
            return LinkDown(f"{rig}: {self.name} not sent: the rig was not connected within "
                            f"{self.wait_s:.1f} s (link state: {link_state})")
        return CommandTimeout(f"{rig}: no reply to {self.name} (cmd_id {self.cmd_id}) after "
                              f"{self.tries} tries, {self.timeout_s:.2f} s apart "
                              f"(link state: {link_state})")


class CommandTable:
    """Commands awaiting replies, by cmd_id (u16, never reused while pending)."""

    def __init__(self) -> None:
        self._pending: dict[int, Pending] = {}
        self._ids = itertools.count(1)

    def __len__(self) -> int:
        return len(self._pending)

    def new_id(self) -> int:
        while True:
            cmd_id = next(self._ids) & 0xFFFF
            if cmd_id not in self._pending:
                return cmd_id

    def add(self, pending: Pending) -> None:
        self._pending[pending.cmd_id] = pending

    def get(self, cmd_id: int) -> Pending | None:
        return self._pending.get(cmd_id)

    def pop(self, cmd_id: int) -> Pending | None:
        return self._pending.pop(cmd_id, None)

    def all(self) -> list[Pending]:
        return list(self._pending.values())

    def expired(self, now: float) -> list[Pending]:
        """Remove and return the commands past their deadline."""
        gone = [p for p in self._pending.values() if now >= p.deadline()]
        for p in gone:
            del self._pending[p.cmd_id]
        return gone

    def due(self, now: float) -> list[Pending]:
        return [p for p in self._pending.values() if p.due(now)]

    def take_unsure(self) -> list[Pending]:
        """Remove and return the commands a try of which may have been carried out (sent,
        not answered NACK_NO_SESSION): after a reset nobody knows whether it was."""
        unsure = [p for p in self._pending.values() if p.tries > p.no_session_tries]
        for p in unsure:
            del self._pending[p.cmd_id]
        return unsure

    def rearm(self) -> None:
        """After a new handshake: send every pending command again at once."""
        for p in self._pending.values():
            p.last_sent_at = None
            p.tries = min(p.tries, p.tries_max - 1)
