"""The broker a service publishes to, from its `--mqtt` URL: checked whole at start-up."""

import re
import socket
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

DEFAULT_PORT = 1883
DEFAULT_PREFIX = "lumenrig"
DEFAULT_QUEUE_MESSAGES = 1000
MAX_QUEUE_MESSAGES = 1_000_000
URL_FORM = "mqtt://HOST[:PORT][/PREFIX][?queue=N]"
# One topic level: no MQTT wildcard (+ #), no separator, nothing a shell or a path would mangle.
_LEVEL = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


@dataclass(frozen=True)
class Broker:
    """Where to publish: host, port, the topic prefix (one or more levels, no wildcards) and
    how many messages may wait for the broker before the oldest is dropped."""

    host: str
    port: int = DEFAULT_PORT
    prefix: str = DEFAULT_PREFIX
    queue_messages: int = DEFAULT_QUEUE_MESSAGES

    @property
    def url(self) -> str:
        """The URL as it is shown (health, log): the broker and the prefix."""
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "mqtt://%s:%d/%s" % (host, self.port, self.prefix)


def parse_broker_url(url: str) -> Broker:
    """`mqtt://HOST[:PORT][/PREFIX][?queue=N]` to a Broker.

    Raises ValueError saying what is wrong and the form expected: another scheme, no host,
    a bad port, credentials (not taken on a command line, where any user can read them), a
    prefix level with a wildcard or an empty level, an unknown option or a queue out of range.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError("--mqtt %r: %s; use %s" % (url, exc, URL_FORM)) from None
    if parts.scheme != "mqtt":
        raise ValueError("--mqtt %r: the scheme must be mqtt:// (use %s)" % (url, URL_FORM))
    if parts.username is not None or parts.password is not None:
        raise ValueError("--mqtt %r: credentials in the URL are not taken (a command line is "
                         "readable by every user); use a broker that allows this host" % url)
    if not parts.hostname:
        raise ValueError("--mqtt %r: no broker host (use %s)" % (url, URL_FORM))
    if parts.fragment:
        raise ValueError("--mqtt %r: a URL fragment (#...) means nothing here" % url)
    prefix = parts.path.strip("/") or DEFAULT_PREFIX
    for level in prefix.split("/"):
        if not _LEVEL.match(level):
            raise ValueError("--mqtt %r: the topic prefix %r has a bad level %r: each level is "
                             "1-64 letters, digits, '_', '.' or '-'" % (url, prefix, level))
    return Broker(parts.hostname, DEFAULT_PORT if port is None else port, prefix,
                  _queue_messages(url, parts.query))


def _queue_messages(url: str, query: str) -> int:
    options = parse_qs(query, keep_blank_values=True)
    unknown = sorted(set(options) - {"queue"})
    if unknown:
        raise ValueError("--mqtt %r: unknown option %s; the one option is queue=N"
                         % (url, ", ".join(unknown)))
    if "queue" not in options:
        return DEFAULT_QUEUE_MESSAGES
    text = options["queue"][-1]
    if not text.isdigit() or not 1 <= int(text) <= MAX_QUEUE_MESSAGES:
        raise ValueError("--mqtt %r: queue must be a whole number of messages from 1 to %d, "
                         "got %r" % (url, MAX_QUEUE_MESSAGES, text))
    return int(text)


def check_level(name: str, what: str) -> str:
    """name as one topic level (a site or rig name); ValueError naming `what` if it cannot be."""
    if not _LEVEL.match(name):
        raise ValueError("%s %r: a topic level is 1-64 letters, digits, '_', '.' or '-'"
                         % (what, name))
    return name


def default_site() -> str:
    """This machine's host name (socket.gethostname()) as a topic level: a character a level
    must not hold becomes '-'."""
    name = socket.gethostname() or "localhost"
    return re.sub(r"[^A-Za-z0-9_.-]", "-", name)[:64]
