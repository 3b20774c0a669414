"""Control of a rig another site serves: the asking service leaves a command row for that
site and waits for its answer; the serving site carries it out as its own API would and
writes the status and body back, which the asker returns as they are. A site that is
offline is not asked (503 naming it); one that does not answer in ANSWER_TIMEOUT_S is a
504; a command older than that when its site takes it is answered as expired, never run
late.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from host.lab.notify import Wakeups
from host.lab.tasks import cancel
from host.runs.errors import RunError
from host.store import Store
from host.store.commands import ANSWERS_CHANNEL, COMMANDS_CHANNEL, Command

log = logging.getLogger(__name__)

ANSWER_TIMEOUT_S = 30.0
# action name -> how this site carries it out: (status, body) from the command's body.
Handler = Callable[[dict[str, Any]], Awaitable[tuple[int, Any]]]


class Commands:
    """Asks other sites (ask) and answers what they ask of this one (start: a task)."""

    def __init__(self, store: Store, site: str, wakeups: Wakeups,
                 handlers: dict[str, Handler]):
        self.store = store
        self.site = site
        self.wakeups = wakeups
        self.handlers = handlers
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._serve(), name="lab-commands")

    async def stop(self) -> None:
        await cancel(self._task)

    async def ask(self, site: str, action: str, body: dict[str, Any]) -> tuple[int, Any]:
        """Have `site` carry out action; its (status, body). RunError 503 when the site is
        offline, 504 when it does not answer in time."""
        sites = {s.name: s for s in await asyncio.to_thread(self.store.list_sites)}
        known = sites.get(site)
        if known is None or not known.online:
            last = ("it never started" if known is None else "it stopped" if
                    known.heartbeat_age_s is None else
                    "its last heartbeat was %.0f s ago" % known.heartbeat_age_s)
            raise RunError(503, "site %s, which serves this rig, is offline (%s): try again "
                                "once it is back" % (site, last))
        command_id = await asyncio.to_thread(self.store.add_command, site, self.site, action,
                                             body)
        deadline = asyncio.get_running_loop().time() + ANSWER_TIMEOUT_S
        while True:
            armed = self.wakeups.arm(ANSWERS_CHANNEL)
            answer = await asyncio.to_thread(self.store.command_answer, command_id)
            if answer is not None:
                return answer
            left_s = deadline - asyncio.get_running_loop().time()
            if left_s <= 0:
                raise RunError(504, "site %s did not answer within %.0f s (command %d)"
                               % (site, ANSWER_TIMEOUT_S, command_id))
            await self.wakeups.wait(armed, min(left_s, 1.0))

    async def _serve(self) -> None:
        while True:
            armed = self.wakeups.arm(COMMANDS_CHANNEL)
            try:
                for command in await asyncio.to_thread(self.store.take_commands, self.site):
                    status, answer = await self._carry_out(command)
                    await asyncio.to_thread(self.store.answer_command, command.id, status,
                                            answer)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the next round tries again
                log.exception("site %s: serving the lab's commands failed", self.site)
            await self.wakeups.wait(armed)

    async def _carry_out(self, command: Command) -> tuple[int, Any]:
        if command.age_s > ANSWER_TIMEOUT_S:
            return 504, {"detail": "site %s took the command %.0f s after it was sent; its "
                                   "sender had stopped waiting, so it was not carried out"
                                   % (self.site, command.age_s)}
        handler = self.handlers.get(command.action)
        if handler is None:
            return 400, {"detail": "site %s does not know the command %r" % (
                self.site, command.action)}
        try:
            return await handler(command.body)
        except RunError as exc:
            return exc.status, {"detail": exc.message}
        except Exception as exc:  # noqa: BLE001 - the asker gets the reason, not a hang
            log.exception("site %s: command %d (%s) from %s failed", self.site, command.id,
                          command.action, command.from_site)
            return 500, {"detail": "site %s could not carry out %s: %s" % (
                self.site, command.action, exc)}
