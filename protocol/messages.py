"""Message bodies: pack and unpack by the struct codes of the schema."""

import struct

from protocol import schema

# msg_id -> (head format, head size, tail kind, record format, record size, tail max)
LAYOUT: dict = {}
for _msg_id, _name, _fields, _tail in schema.MESSAGES:
    _head = schema.struct_format(_fields)
    if _tail is None:
        LAYOUT[_msg_id] = (_head, struct.calcsize(_head), None, None, 0, 0)
    elif _tail[0] == "records":
        _rec = schema.struct_format(_tail[1])
        LAYOUT[_msg_id] = (_head, struct.calcsize(_head), "records", _rec,
                           struct.calcsize(_rec), _tail[2])
    else:
        LAYOUT[_msg_id] = (_head, struct.calcsize(_head), "bytes", None, 1, _tail[1])


class MessageError(ValueError):
    """A body that does not match its schema entry."""


def pack(msg_id, values, tail=None):
    """Body bytes for msg_id from head values (a sequence in schema order) and tail.

    tail is a sequence of record tuples for a records tail, bytes for a bytes tail.
    """
    layout = LAYOUT.get(msg_id)
    if layout is None:
        raise MessageError("unknown message id %d" % msg_id)
    head_fmt, head_size, kind, rec_fmt, rec_size, tail_max = layout
    body = bytearray(struct.pack(head_fmt, *values))
    if kind is None:
        if tail:
            raise MessageError("message %d has no tail" % msg_id)
    elif kind == "records":
        records = tail or ()
        if len(records) > tail_max:
            raise MessageError("%d records, at most %d" % (len(records), tail_max))
        for record in records:
            body += struct.pack(rec_fmt, *record)
    else:
        data = tail or b""
        if len(data) > tail_max:
            raise MessageError("tail of %d bytes, at most %d" % (len(data), tail_max))
        body += data
    return bytes(body)


def unpack(msg_id, body):
    """(head values tuple, tail) of a body; tail is a list of record tuples, bytes or None.

    Raises MessageError when the length does not fit the schema.
    """
    layout = LAYOUT.get(msg_id)
    if layout is None:
        raise MessageError("unknown message id %d" % msg_id)
    head_fmt, head_size, kind, rec_fmt, rec_size, tail_max = layout
    n = len(body)
    if n < head_size:
        raise MessageError("body of %d bytes, head needs %d" % (n, head_size))
    head = struct.unpack_from(head_fmt, body, 0)
    rest = n - head_size
    if kind is None:
        if rest:
            raise MessageError("%d bytes after a fixed body" % rest)
        return head, None
    if kind == "records":
        if rest % rec_size or rest // rec_size > tail_max:
            raise MessageError("tail of %d bytes is not 0..%d records" % (rest, tail_max))
        return head, [struct.unpack_from(rec_fmt, body, head_size + i * rec_size)
                      for i in range(rest // rec_size)]
    if rest > tail_max:
        raise MessageError("tail of %d bytes, at most %d" % (rest, tail_max))
    return head, bytes(body[head_size:])


def check_length(msg_id, n):
    """True when a body of n bytes can belong to msg_id (cheap pre-check, no unpacking)."""
    layout = LAYOUT.get(msg_id)
    if layout is None:
        return False
    head_size = layout[1]
    rest = n - head_size
    if rest < 0:
        return False
    kind = layout[2]
    if kind is None:
        return rest == 0
    if kind == "records":
        return rest % layout[4] == 0 and rest // layout[4] <= layout[5]
    return rest <= layout[5]


def field_names(msg_id):
    """Head field names of msg_id, in order."""
    return tuple(f[0] for f in schema.BY_ID[msg_id][2])
