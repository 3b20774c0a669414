"""host/link/wire.py: pydantic models and the sample dtype derived from protocol/schema.py."""

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from host.link import wire
from host.link.commands import describe_nack
from protocol import messages, names, schema
from tests.support.protocol_strategies import RANGES, any_message, values_for


def _model_from_values(msg_id, values, tail):
    model = wire.model_for(msg_id)
    kwargs = dict(zip(model.head_names, values))
    if model.tail_kind == "records":
        record = wire.record_model(msg_id)
        kwargs["records"] = [record(**dict(zip(model.record_names, r))) for r in tail]
    elif model.tail_kind == "bytes":
        kwargs["data"] = tail
    return model(**kwargs)


def test_every_schema_message_has_a_model_with_its_id_and_name():
    for msg_id, name, fields, _tail in schema.MESSAGES:
        model = wire.model_for(msg_id)
        assert model is wire.model_for(name)
        assert model.msg_id == msg_id
        assert model.head_names == tuple(f[0] for f in fields)


@settings(deadline=None, max_examples=400)
@given(any_message)
def test_model_to_body_to_model_round_trips_every_message(msg):
    msg_id, values, tail = msg
    original = _model_from_values(msg_id, values, tail)
    body = wire.encode(original)
    assert body == messages.pack(msg_id, values, tail)
    assert wire.decode(msg_id, body) == original


@settings(deadline=None)  # timing varies on a loaded CI machine
@given(st.sampled_from([(e, f) for e in schema.MESSAGES for f in e[2]]), st.booleans())
def test_a_value_outside_its_struct_range_is_refused(entry_field, above):
    (msg_id, _name, fields, tail), (name, code, _unit, _scale) = entry_field
    low, high = RANGES[code]
    kwargs = {f[0]: 0 for f in fields}
    kwargs[name] = high + 1 if above else low - 1
    if tail is not None:
        kwargs["records" if tail[0] == "records" else "data"] = [] if tail[0] == "records" else b""
    with pytest.raises(ValidationError):
        wire.model_for(msg_id)(**kwargs)


def test_field_descriptions_carry_the_unit():
    fields = wire.model_for("START_RUN").model_fields
    assert "mV" in fields["setpoint_mv"].description
    assert "pA" in fields["target_pd_pa"].description
    assert wire.Sample.model_fields["temperature_cc"].description == "unit: centi-degC"


def test_too_many_records_are_refused():
    record = wire.Sample(**{name: 0 for name in schema.SAMPLE_NAMES})
    with pytest.raises(ValidationError):
        wire.model_for("SAMPLE_BATCH")(run_key=1, flags=0,
                                       records=[record] * (schema.MAX_SAMPLES_PER_BATCH + 1))


def test_sample_dtype_has_the_schema_names_in_a_record_of_the_schema_size():
    assert wire.SAMPLE_DTYPE.names == schema.SAMPLE_NAMES
    assert wire.SAMPLE_DTYPE.itemsize == schema.SAMPLE_SIZE


@settings(deadline=None)  # timing varies on a loaded CI machine
@given(values_for(schema.SAMPLE_FIELDS))
def test_sample_dtype_matches_struct_byte_for_byte(record):
    packed = struct.pack(schema.SAMPLE_FORMAT, *record)
    assert np.array([record], dtype=wire.SAMPLE_DTYPE).tobytes() == packed
    assert tuple(np.frombuffer(packed, wire.SAMPLE_DTYPE)[0].tolist()) == record


@settings(deadline=None)  # timing varies on a loaded CI machine
@given(st.integers(0, 0xFFFFFFFF), st.integers(0, 0xFF), st.integers(0, 0xFF),
       st.lists(values_for(schema.SAMPLE_FIELDS), max_size=schema.MAX_SAMPLES_PER_BATCH))
def test_decode_sample_batch_agrees_with_the_struct_codec(run_key, channel, flags, records):
    body = messages.pack(schema.SAMPLE_BATCH, (run_key, channel, flags), records)
    got_run, got_channel, got_flags, array = wire.decode_sample_batch(body)
    assert (got_run, got_channel, got_flags) == (run_key, channel, flags)
    assert [tuple(r) for r in array.tolist()] == records


@settings(deadline=None)  # timing varies on a loaded CI machine
@given(st.binary(max_size=400))
def test_decode_sample_batch_refuses_a_body_of_partial_records(body):
    head = messages.LAYOUT[schema.SAMPLE_BATCH][1]
    if len(body) >= head and (len(body) - head) % schema.SAMPLE_SIZE == 0:
        assert len(wire.decode_sample_batch(body)[3]) == (len(body) - head) // schema.SAMPLE_SIZE
    else:
        with pytest.raises(messages.MessageError):
            wire.decode_sample_batch(body)


def test_fault_codes_read_as_their_names_and_unknown_ones_as_numbers():
    assert [wire.fault_name(code) for code in (schema.FAULT_NONE, schema.FAULT_I2C,
                                               schema.FAULT_MEMORY, schema.FAULT_SOFTWARE)] == [
        "none", "i2c", "memory", "software"]
    assert wire.fault_name(len(names.FAULT_NAMES)) == f"unknown ({len(names.FAULT_NAMES)})"
    text = describe_nack("START_RUN", schema.START_RUN, schema.NACK_FAULTED, schema.FAULT_MEMORY)
    assert "memory fault" in text
