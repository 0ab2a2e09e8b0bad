"""Deployments under asyncio: run_async with a coroutine callback, and events as an
asynchronous iterator."""

from __future__ import annotations

import asyncio
from pathlib import Path

import cdt
from test_deploy import check_invariants, prepare


def test_run_async_awaits_a_coroutine_callback(tmp_path: Path) -> None:
    d = prepare(tmp_path)
    seen: list[str] = []

    async def on_event(e: cdt.Event) -> None:
        await asyncio.sleep(0)
        seen.append(e.kind)

    report = asyncio.run(d.run_async(on_event))
    assert report.totals["failed"] == 0
    assert seen[0] == "run_started" and seen[-1] == "run_finished"
    check_invariants(d)


def test_events_come_as_an_async_iterator(tmp_path: Path) -> None:
    d = prepare(tmp_path)

    async def main() -> tuple[int, cdt.Report]:
        n = 0
        async for e in d.events_async():
            n += e.kind == "target_finished"
        return n, await d.wait_async()

    finished, report = asyncio.run(main())
    assert finished == len(d.targets)
    assert report.totals["succeeded"] == len(d.targets) - report.totals["skipped"]


def test_cancelling_the_task_cancels_the_run(tmp_path: Path) -> None:
    d = prepare(tmp_path, scale=300.0)

    async def main() -> None:
        task = asyncio.create_task(d.run_async())
        await asyncio.sleep(0.5)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass

    asyncio.run(main())
    assert d.finished
    report = cdt.Deployment.resume(d.dir).run()
    assert report.totals["not_started"] > 0, "cancelled before the end"
    check_invariants(d)
