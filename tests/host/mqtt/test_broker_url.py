"""`--mqtt` and `--site`: a good URL gives its broker, prefix and queue; any other text is a
ValueError that says what is wrong, and the service's settings refuse it."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from host.mqtt.broker import Broker, default_site, parse_broker_url
from host.settings import Settings

LEVEL = st.text(st.sampled_from("abcXYZ019_.-"), min_size=1, max_size=12)
HOST = st.one_of(st.just("127.0.0.1"), st.just("broker.lab"), st.just("[::1]"))


@given(HOST, st.integers(1, 65535), st.lists(LEVEL, min_size=1, max_size=3),
       st.integers(1, 1_000_000))
def test_a_url_of_the_documented_form_gives_its_parts_back(host, port, levels, queue):
    prefix = "/".join(levels)
    broker = parse_broker_url("mqtt://%s:%d/%s?queue=%d" % (host, port, prefix, queue))
    assert broker == Broker(host.strip("[]"), port, prefix, queue)
    assert parse_broker_url(broker.url + "?queue=%d" % queue) == broker


def test_a_bare_host_takes_the_default_port_prefix_and_queue():
    assert parse_broker_url("mqtt://127.0.0.1") == Broker("127.0.0.1", 1883, "lumenrig", 1000)


@given(st.text(max_size=60))
def test_any_text_is_a_broker_or_a_value_error(text):
    try:
        parse_broker_url(text)
    except ValueError as exc:
        assert str(exc).startswith("--mqtt ")


@pytest.mark.parametrize("url, says", [
    ("http://127.0.0.1", "the scheme must be mqtt://"),
    ("mqtt://", "no broker host"),
    ("mqtt://127.0.0.1:70000", "Port out of range"),
    ("mqtt://user:secret@127.0.0.1", "credentials in the URL are not taken"),
    ("mqtt://127.0.0.1/lab/+", "bad level '+'"),
    ("mqtt://127.0.0.1/lab//x", "bad level ''"),
    ("mqtt://127.0.0.1?queue=0", "queue must be a whole number"),
    ("mqtt://127.0.0.1?qos=2", "unknown option qos"),
])
def test_a_bad_url_is_refused_saying_why(url, says):
    with pytest.raises(ValueError) as refused:
        parse_broker_url(url)
    assert says in str(refused.value)


def test_the_settings_refuse_a_bad_url_or_site_and_default_the_site_to_the_host_name():
    settings = Settings(token="0123456789abcdef", mqtt_url="mqtt://127.0.0.1/lab")
    assert settings.site == default_site() and settings.mqtt.prefix == "lab"
    assert Settings(token="0123456789abcdef").mqtt is None
    with pytest.raises(ValidationError, match="the scheme must be mqtt://"):
        Settings(token="0123456789abcdef", mqtt_url="tcp://127.0.0.1")
    with pytest.raises(ValidationError, match="--site 'a/b'"):
        Settings(token="0123456789abcdef", site="a/b")
