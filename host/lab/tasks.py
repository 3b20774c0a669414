"""The lab's background loops end the same way."""

import asyncio


async def cancel(task: asyncio.Task | None) -> None:
    """Cancel a loop's task (None: never started) and wait until it has ended."""
    if task is not None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
