"""The service: what the FastAPI lifespan opens (store, rigs, runs, MQTT telemetry) and closes,
and serving it."""

import asyncio
import logging
import logging.handlers
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, AsyncIterator

from fastapi import FastAPI

from host import allocator
from host.lab import Site
from host.lab.commands import Commands
from host.lab.notify import Wakeups
from host.lab.relay import RemoteRuns
from host.live.fanout import Hub
from host.plotting.cache import SampleCache
from host.rigs import Rig
from host.runs.manager import RunManager
from host.sequences.runner import SequenceRunner
from host.settings import Settings
from host.store import Store
from photometry import photopic

if TYPE_CHECKING:
    from host.mqtt.telemetry import Telemetry

log = logging.getLogger(__name__)


class Service:
    """Everything a running service owns; the API reaches it through app.state.service."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.store: Store | None = None
        self.sample_cache: SampleCache | None = None
        self.hub = Hub()
        self.rigs: dict[str, Rig] = {}
        self.runs: RunManager | None = None
        self.sequences: SequenceRunner | None = None
        self.telemetry: "Telemetry | None" = None  # with --mqtt only
        self.site: Site | None = None
        self.wakeups: Wakeups | None = None
        self.commands: Commands | None = None
        self.remote_runs: RemoteRuns | None = None
        self._photopic: asyncio.Task | None = None  # colour-science, loaded in the background

    async def open(self) -> None:
        allocator.limit_arenas()  # before the first worker thread allocates
        self._photopic = asyncio.create_task(asyncio.to_thread(photopic.load_table),
                                             name="load-photopic")
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = await asyncio.to_thread(Store, self.settings.db_url)
        self.sample_cache = SampleCache(self.store)
        for spec in self.settings.rigs:
            self.rigs[spec.name] = Rig(spec)
        self.site = Site(self.store, self.settings, self.rigs)
        await asyncio.to_thread(self.site.register)  # ClaimRefused: a name held elsewhere
        for rig in self.rigs.values():
            await asyncio.to_thread(rig.open, self.store)
        broker = self.settings.mqtt
        if broker is not None:  # before the runs start, so their first messages are published
            from host.mqtt.telemetry import Telemetry

            self.telemetry = Telemetry(broker, self.settings.site, self.rigs, self.store)
            await self.telemetry.start(self.hub)
        self.runs = RunManager(self.store, self.hub, self.rigs, self.settings.site)
        await self.runs.start()
        self.sequences = SequenceRunner(self.store, self.runs)
        await self.sequences.start()
        self.site.start()
        from host.api.routes_runs import lab_handlers

        self.wakeups = Wakeups(self.settings.db_url)
        self.wakeups.start()
        self.commands = Commands(self.store, self.settings.site, self.wakeups,
                                 lab_handlers(self))
        self.commands.start()
        self.remote_runs = RemoteRuns(self.store, self.hub, self.wakeups)

    async def close(self) -> None:
        if self.remote_runs is not None:
            await self.remote_runs.stop()
        if self.commands is not None:
            await self.commands.stop()
        if self.wakeups is not None:
            await self.wakeups.stop()
        if self.site is not None:
            await self.site.stop()
        if self.sequences is not None:
            await self.sequences.stop()
        if self.runs is not None:
            await self.runs.stop()
        if self.telemetry is not None:
            await self.telemetry.stop()
        for rig in self.rigs.values():
            await asyncio.to_thread(rig.close)
        if self.store is not None:
            self.store.close()


def create_app(settings: Settings) -> FastAPI:
    from host.api.app import build_app

    service = Service(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await service.open()
        try:
            yield
        finally:
            await service.close()

    return build_app(service, lifespan)


LOG_FILE = "lumenrig.log"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def _log_to(path: Path) -> None:
    """Log to stderr and to a file in the data directory (5 MB, then rotated, 3 kept)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = [
        logging.StreamHandler(),
        logging.handlers.RotatingFileHandler(path, maxBytes=5_000_000, backupCount=3,
                                             encoding="utf-8")]
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, handlers=handlers)


# How long an idle HTTP/1.1 connection stays open (uvicorn's default is 5 s): longer than a
# dashboard's polling pause, so a poll does not race the server closing its connection.
KEEP_ALIVE_S = 75


def serve_forever(settings: Settings) -> None:
    import uvicorn

    _log_to(settings.data_dir / LOG_FILE)
    from host.api.httpbounds import BoundedHttpToolsProtocol

    app = create_app(settings)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info",
                access_log=False, http=BoundedHttpToolsProtocol,
                timeout_keep_alive=KEEP_ALIVE_S)
