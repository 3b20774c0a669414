"""What a service instance is configured with: database, bind address, rigs, data folder, and
the MQTT broker it publishes to under its site's name."""

import os
import re
import secrets
import socket
from pathlib import Path

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from host.mqtt.broker import Broker, check_level, default_site, parse_broker_url
from host.security import is_loopback


def default_data_dir() -> Path:
    """Where a service keeps its database, token and log unless told otherwise: the user's
    data directory (`~/.local/share/lumenrig` on Linux), or LUMENRIG_DATA_DIR; never the
    folder it happens to be started from, so the CLI finds the same token anywhere."""
    configured = os.environ.get("LUMENRIG_DATA_DIR", "").strip()
    return Path(configured) if configured else Path(platformdirs.user_data_dir("lumenrig",
                                                                               appauthor=False))


DEFAULT_DATA_DIR = default_data_dir()
DATABASE_FILE = "lumenrig.sqlite"
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class RigSpec(BaseModel):
    """One rig: its name and where it is (serial path, pyserial URL or sim:PRESET?...)."""

    model_config = ConfigDict(frozen=True)
    name: str
    spec: str
    # False: the name is a default (rig1, ...), and the lab's name for the board behind the
    # port replaces it at the first connection (host.lab.site.adopt_board_name).
    named: bool = True

    @property
    def is_sim(self) -> bool:
        return self.spec.startswith("sim:")


def parse_rig_args(values: list[str]) -> list[RigSpec]:
    """`[NAME=]SPEC` arguments to rig specs, named rig1, rig2, ... unless NAME is given.

    Raises ValueError naming the bad argument (duplicate names, empty spec, bad name, a
    sim: spec the simulator would refuse).
    """
    rigs: list[RigSpec] = []
    for index, value in enumerate(values, start=1):
        name, sep, spec = value.partition("=")
        named = bool(sep) and "://" not in name and not name.startswith(("sim:", "/"))
        if not named:
            name, spec = "rig%d" % index, value
        spec = spec.strip()
        if not spec:
            raise ValueError("--rig %r: the spec after the name is empty" % value)
        if not _NAME.match(name):
            raise ValueError("--rig %r: a rig name is 1-64 letters, digits, '_', '.' or '-'"
                             % value)
        if any(r.name == name for r in rigs):
            raise ValueError("--rig %r: the name %r is used twice" % (value, name))
        _check_sim_spec(spec)
        rigs.append(RigSpec(name=name, spec=spec, named=named))
    return rigs


def _check_sim_spec(spec: str) -> None:
    """A sim: spec is checked now (preset, accel, seed, fault grammar), so a typo stops the
    command at once with the parser's message instead of failing the service's start-up."""
    from host import simulated

    if simulated.is_sim_spec(spec):
        try:
            simulated.check_sim_spec(spec)
        except ValueError as exc:
            raise ValueError("--rig %s" % exc) from None


def database_url_in(data_dir: Path) -> str:
    """The SQLite database a service keeps in its data directory."""
    return "sqlite:///%s" % (data_dir / DATABASE_FILE)


class Settings(BaseModel):
    """A service's configuration; without db_url, the SQLite database in data_dir."""

    model_config = ConfigDict(frozen=True)
    db_url: str = ""
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    rigs: list[RigSpec] = []
    data_dir: Path = DEFAULT_DATA_DIR
    token: str = Field(min_length=16, repr=False)  # never in a repr, so never in a log line
    # MQTT telemetry (host.mqtt): off without a URL; site names this service in the topics.
    mqtt_url: str = ""
    site: str = Field(default_factory=default_site)
    # This running service in its site's row (host.lab): the CLI claims the site with it
    # before serving, the service again as it opens.
    instance: str = Field(default_factory=lambda: secrets.token_hex(8))

    @model_validator(mode="before")
    @classmethod
    def _database_in_data_dir(cls, values: dict) -> dict:
        if isinstance(values, dict) and not values.get("db_url"):
            values = dict(values, db_url=database_url_in(
                Path(values.get("data_dir") or DEFAULT_DATA_DIR)))
        return values

    @model_validator(mode="before")
    @classmethod
    def _lab_wide_default_names(cls, values: dict) -> dict:
        """On a lab's PostgreSQL, a rig given no name is SITE.rigN (rig1 would clash with
        every other site's first rig) until its board's lab name replaces it."""
        if not (isinstance(values, dict) and str(values.get("db_url", "")).startswith(
                "postgresql")):
            return values
        site = str(values.get("site") or default_site())
        rigs = [RigSpec.model_validate(r) for r in values.get("rigs") or ()]
        return dict(values, rigs=[
            r if r.named else r.model_copy(update={"name": "%s.%s" % (
                site[:64 - len(r.name) - 1], r.name)}) for r in rigs])

    @field_validator("db_url")
    @classmethod
    def _known_database(cls, url: str) -> str:
        if not url.startswith(("sqlite:", "postgresql")):
            raise ValueError("--db must be sqlite:///PATH or postgresql+psycopg://USER@HOST/DB, "
                             "got %r" % url)
        return url

    @field_validator("mqtt_url")
    @classmethod
    def _known_broker(cls, url: str) -> str:
        if url.strip():
            parse_broker_url(url)  # raises ValueError saying what is wrong
        return url.strip()

    @field_validator("site")
    @classmethod
    def _site_is_a_topic_level(cls, site: str) -> str:
        return check_level(site, "--site")

    @property
    def mqtt(self) -> Broker | None:
        """The broker to publish to, None for no MQTT."""
        return parse_broker_url(self.mqtt_url) if self.mqtt_url else None

    @property
    def api_url(self) -> str:
        """Where other services and people reach this one's API (the lab's site row)."""
        host = socket.gethostname() if self.host in ("0.0.0.0", "::", "") else self.host
        return "http://%s:%d" % ("[%s]" % host if ":" in host else host, self.port)

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)
