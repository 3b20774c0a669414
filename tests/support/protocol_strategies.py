"""Hypothesis strategies that build valid message values straight from protocol/schema.py."""

from hypothesis import strategies as st

from protocol import schema

RANGES = {
    "B": (0, 0xFF), "b": (-0x80, 0x7F), "H": (0, 0xFFFF), "h": (-0x8000, 0x7FFF),
    "I": (0, 0xFFFFFFFF), "i": (-0x80000000, 0x7FFFFFFF), "Q": (0, 0xFFFFFFFFFFFFFFFF),
    "q": (-0x8000000000000000, 0x7FFFFFFFFFFFFFFF),
}


def values_for(fields):
    return st.tuples(*(st.integers(*RANGES[code]) for _, code, _, _ in fields))


def message(entry):
    """(msg_id, head values, tail) for one schema entry."""
    msg_id, _name, fields, tail = entry
    if tail is None:
        tail_st = st.none()
    elif tail[0] == "records":
        tail_st = st.lists(values_for(tail[1]), max_size=tail[2])
    else:
        tail_st = st.binary(max_size=tail[1])
    return st.tuples(st.just(msg_id), values_for(fields), tail_st)


any_message = st.one_of(*(message(entry) for entry in schema.MESSAGES))
