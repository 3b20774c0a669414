"""Host-side view of the wire schema: pydantic models, the sample dtype, decode and encode.

Everything here is derived from protocol/schema.py at import, so a schema change reaches
the host without a second definition to keep in step.
"""

import struct
from typing import Annotated, Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, create_model

from protocol import messages, schema
from protocol.names import FAULT_NAMES

# struct code -> (numpy little-endian code, smallest value, largest value)
INT_CODES = {
    "B": ("<u1", 0, 0xFF),
    "b": ("<i1", -0x80, 0x7F),
    "H": ("<u2", 0, 0xFFFF),
    "h": ("<i2", -0x8000, 0x7FFF),
    "I": ("<u4", 0, 0xFFFFFFFF),
    "i": ("<i4", -0x80000000, 0x7FFFFFFF),
    "Q": ("<u8", 0, 0xFFFFFFFFFFFFFFFF),
    "q": ("<i8", -0x8000000000000000, 0x7FFFFFFFFFFFFFFF),
}


class WireMessage(BaseModel):
    """Base of every message model; `msg_id` and `fields` say where it sits in the schema."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    msg_id: ClassVar[int] = -1
    head_names: ClassVar[tuple[str, ...]] = ()
    tail_kind: ClassVar[str | None] = None
    record_names: ClassVar[tuple[str, ...]] = ()  # a records tail's field names, in order


class WireSample(BaseModel):
    """One telemetry record as a model (the slow path; ingest uses SAMPLE_DTYPE)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def _describe(unit: str, scale: float) -> str:
    if not unit:
        return "raw integer"
    if scale == 1:
        return "unit: " + unit
    return f"unit: {unit}, physical value = raw * {scale:g}"


def _int_field(code: str, unit: str, scale: float) -> Any:
    _np, low, high = INT_CODES[code]
    return (Annotated[int, Field(ge=low, le=high, description=_describe(unit, scale))], ...)


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _fields_of(fields: tuple) -> dict[str, Any]:
    return {name: _int_field(code, unit, scale) for name, code, unit, scale in fields}


Sample = create_model("Sample", __base__=WireSample, **_fields_of(schema.SAMPLE_FIELDS))
# The record model of each records tail, by its field tuple (SAMPLE_BATCH's is Sample).
RECORDS: dict[tuple, type[BaseModel]] = {schema.SAMPLE_FIELDS: Sample}


def _record_model(name: str, fields: tuple) -> type[BaseModel]:
    if fields not in RECORDS:
        RECORDS[fields] = create_model(_camel(name) + "Record", __base__=WireSample,
                                       **_fields_of(fields))
    return RECORDS[fields]


def _build_model(entry: tuple) -> type[WireMessage]:
    msg_id, name, fields, tail = entry
    definitions = _fields_of(fields)
    if msg_id in schema.COMMANDS and "channel" in definitions:
        # A command the host sends goes to channel 0 unless it names one: the one channel
        # of a one-channel rig.
        definitions["channel"] = (definitions["channel"][0], 0)
    if tail is not None and tail[0] == "records":
        record = _record_model(name, tail[1])
        definitions["records"] = (
            Annotated[list[record], Field(max_length=tail[2])],  # type: ignore[valid-type]
            ...,
        )
    elif tail is not None:
        definitions["data"] = (
            Annotated[bytes, Field(max_length=tail[1], description="free bytes")], b"")
    model = create_model(_camel(name), __base__=WireMessage, **definitions)
    model.msg_id = msg_id
    model.head_names = tuple(f[0] for f in fields)
    model.tail_kind = None if tail is None else tail[0]
    model.record_names = tuple(f[0] for f in tail[1]) if model.tail_kind == "records" else ()
    return model


MODELS: dict[int, type[WireMessage]] = {e[0]: _build_model(e) for e in schema.MESSAGES}
BY_NAME: dict[str, type[WireMessage]] = {e[1]: MODELS[e[0]] for e in schema.MESSAGES}

# Packed like schema.SAMPLE_FORMAT: no alignment padding, so itemsize is SAMPLE_SIZE.
SAMPLE_DTYPE = np.dtype([(name, INT_CODES[code][0]) for name, code, _u, _s in schema.SAMPLE_FIELDS])
_BATCH_HEAD_SIZE = messages.LAYOUT[schema.SAMPLE_BATCH][1]
_BATCH_HEAD = struct.Struct(messages.LAYOUT[schema.SAMPLE_BATCH][0])


def model_for(msg: int | str) -> type[WireMessage]:
    """The model of a message id or schema name (KeyError names the unknown message)."""
    if isinstance(msg, str):
        if msg not in BY_NAME:
            raise KeyError(f"no message {msg!r} in the schema")
        return BY_NAME[msg]
    if msg not in MODELS:
        raise KeyError(f"no message id {msg} in the schema")
    return MODELS[msg]


def record_model(msg: int | str) -> type[BaseModel]:
    """The model of one record of a message with a records tail (Sample for SAMPLE_BATCH)."""
    model = model_for(msg)
    if model.tail_kind != "records":
        raise KeyError(f"{model.__name__} has no records")
    return RECORDS[schema.BY_ID[model.msg_id][3][1]]


def decode(msg_id: int, body: bytes) -> WireMessage:
    """Model instance of a body; raises protocol.messages.MessageError on a bad length."""
    model = model_for(msg_id)
    head, tail = messages.unpack(msg_id, body)
    values: dict[str, Any] = dict(zip(model.head_names, head))
    if model.tail_kind == "records":
        record = record_model(msg_id)
        values["records"] = [record(**dict(zip(model.record_names, rec))) for rec in tail or ()]
    elif model.tail_kind == "bytes":
        values["data"] = tail
    return model(**values)


def encode(message: WireMessage) -> bytes:
    """Body bytes of a model instance (the frame header is added by protocol.frame)."""
    cls = type(message)
    head = [getattr(message, name) for name in cls.head_names]
    tail: Any = None
    if cls.tail_kind == "records":
        records = message.records  # type: ignore[attr-defined]
        tail = [tuple(getattr(rec, name) for name in cls.record_names) for rec in records]
    elif cls.tail_kind == "bytes":
        tail = message.data  # type: ignore[attr-defined]
    return messages.pack(cls.msg_id, head, tail)


def decode_sample_batch(body: bytes) -> tuple[int, int, int, np.ndarray]:
    """(run_key, channel, batch flags, records) of a SAMPLE_BATCH body: the ingest fast
    path.

    records is a read-only structured array viewing `body` (no copy); copy it to keep it
    past the body's life or to modify it. Raises MessageError on a length that is not a
    whole number of records.
    """
    rest = len(body) - _BATCH_HEAD_SIZE
    if rest < 0 or rest % SAMPLE_DTYPE.itemsize:
        raise messages.MessageError(f"SAMPLE_BATCH body of {len(body)} bytes")
    run_key, channel, flags = _BATCH_HEAD.unpack_from(body)
    return run_key, channel, flags, np.frombuffer(body, SAMPLE_DTYPE, offset=_BATCH_HEAD_SIZE)


def channel_record(message: Any, channel: int = 0) -> Any:
    """One channel's record of a HELLO_ACK or HEARTBEAT (state, mode, flags, run_key,
    next_seq), or None when the message has none for that channel."""
    for record in message.records:
        if record.channel == channel:
            return record
    return None


def sample_dict(record: np.void) -> dict[str, int]:
    """One record of SAMPLE_DTYPE as a plain dict of Python ints (for JSON)."""
    return {name: int(record[name]) for name in schema.SAMPLE_NAMES}


def fault_name(code: int) -> str:
    """A device fault code (STATUS.fault_code, EV_EXCEPTION value, NACK_FAULTED detail) as
    the word a person reads; a code this host does not know is shown as a number."""
    names = FAULT_NAMES
    return names[code] if 0 <= code < len(names) else f"unknown ({code})"
