"""asyncio adapters of :class:`cdt.Deployment`: the run goes on its own thread; events are
taken from it in batches in a worker thread, so the event loop never blocks."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

from ._cdt import Deployment, Event, Report

__all__ = ["events_async", "run_async", "wait_async"]

# How long a worker thread waits for events before the loop looks again (seconds).
_POLL = 0.1


async def wait_async(deployment: Deployment) -> Report:
    """Waits for a started deployment; its report."""
    return await asyncio.to_thread(deployment.wait)


async def events_async(deployment: Deployment) -> AsyncIterator[Event]:
    """Starts ``deployment`` and yields its events in order."""
    # An asynchronous transport's coroutines run on this loop.
    deployment._use_loop(asyncio.get_running_loop())
    events = deployment.start()
    while True:
        batch = await asyncio.to_thread(events.next_batch, 1024, _POLL)
        if batch is None:
            return
        for event in batch:
            yield event


async def run_async(
    deployment: Deployment, on_event: Callable[[Event], Any] | None = None
) -> Report:
    """Runs ``deployment`` to its end; see :meth:`cdt.Deployment.run_async`."""
    failure: BaseException | None = None
    try:
        async for event in events_async(deployment):
            if on_event is None or failure is not None:
                continue
            try:
                result = on_event(event)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:  # raised once the run has stopped
                failure = exc
                deployment.cancel()
    except asyncio.CancelledError:
        # Nothing new starts; what is in flight finishes; then the cancellation goes on.
        deployment.cancel()
        await asyncio.shield(wait_async(deployment))
        raise
    report = await wait_async(deployment)
    if failure is not None:
        raise failure
    return report
