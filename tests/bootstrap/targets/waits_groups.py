"""Four handlers, each fanning out to children that hold a distinct leaf for ~1.5 s, then
exit: ``by_taskgroup`` through asyncio.TaskGroup (3.11+), ``by_wait`` through
asyncio.wait, ``by_as_completed`` through asyncio.as_completed, ``by_wait_for`` through
asyncio.wait_for. Each child's function name says its group (``tg_``, ``w_``, ``ac_``,
``wf_``). Runs on CPython 3.8+ (no TaskGroup before 3.11).

The hold outlasts WAITS_MAX_GAP_S (1 s), so at least two task snapshots see the groups
however idle the loop is (see waits_kinds.py)."""

import asyncio

HOLD = 1.5


async def tg_sleep():
    await asyncio.sleep(HOLD)


async def tg_event(ev):
    await ev.wait()


async def w_sleep():
    await asyncio.sleep(HOLD)


async def w_queue(q):
    await q.get()


async def w_event(ev):
    await ev.wait()


async def ac_sleep():
    await asyncio.sleep(HOLD)


async def ac_event(ev):
    await ev.wait()


async def wf_sleep():
    await asyncio.sleep(HOLD)


async def by_taskgroup(ev):
    async with asyncio.TaskGroup() as tg:
        tg.create_task(tg_sleep())
        tg.create_task(tg_event(ev))


async def by_wait(ev):
    await asyncio.wait([asyncio.ensure_future(c) for c in
                        (w_sleep(), w_queue(asyncio.Queue()), w_event(ev))])


async def by_as_completed(ev):
    for next_done in asyncio.as_completed([ac_sleep(), ac_event(ev)]):
        await next_done


async def by_wait_for():
    await asyncio.wait_for(wf_sleep(), 10)


async def main():
    ev = asyncio.Event()
    handlers = [by_wait(ev), by_as_completed(ev), by_wait_for()]
    if hasattr(asyncio, "TaskGroup"):
        handlers.append(by_taskgroup(ev))
    tasks = [asyncio.ensure_future(h) for h in handlers]
    await asyncio.sleep(HOLD + 0.2)
    ev.set()
    for t in tasks:
        t.cancel()  # w_queue never ends: cancelling its handler leaves it to asyncio.run
    await asyncio.gather(*tasks, return_exceptions=True)


asyncio.run(main())
