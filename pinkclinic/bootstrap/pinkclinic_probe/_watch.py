"""The watcher thread of one loop thread: lag, blocked-loop stacks, task counts.

Lag (feature ``loop``): the loop runs a timer of its own (``_Beat``, re-armed with
``loop.call_later``) that notes how late it ran: every ``tick_ms`` while the watcher is on
alert, every ``calm_tick_ms`` otherwise (:func:`tick_intervals`). Nothing per
tick crosses threads: no self-pipe write to wake the loop, no watcher wake-up. The
watcher wakes when the pending tick could be half-way to a stall (``block_ms / 2`` past
its due time, every 15-25 ms) and to write each window's ``lag`` record. If the tick is
still pending ``block_ms`` after it was due, the loop is stalled: the watcher grabs the
loop thread's stack *now*, while it is still stuck, and follows the loop thread's CPU
clock until the tick runs. If the stall ended before that window reached
``MIN_CPU_WINDOW_S``, the window starts at the watcher's previous wake-up instead (one
read of the clock per wake-up), taking in up to ~20 ms before the stall. The share of CPU time over the
stalled window says whether the thread was computing (``on_cpu`` true: loop-cpu) or
waiting in a blocking call (false: loop-blocking-call). Time spent runnable but waiting
for a CPU counts as on-CPU (see ``_cpu``).

With ``loop``, the task counts and snapshots of ``tasks`` are taken by the beat too
(``_Snaps``), when due: no thread wakes up for them. With ``tasks`` alone, the watcher
posts its ticks with ``loop.call_soon_threadsafe`` (every ``tasks_ms``) as before, and
the stall logic is off.

``dur_ms`` runs from the due time of the tick that caught the stall to the moment it ran:
a lower bound, short of the true stall by at most the tick's interval (a 20 ms calm tick
for a 30 ms threshold: a 50 ms stall always measures at least 30 ms; 40 ms on alert). The stack is taken
``tick_ms / 2`` before ``block_ms`` and again at ``block_ms``; only a stack taken while
the tick was still pending is kept, so it never shows what ran after the stall.
"""
import threading
import time

from . import _cpu, _waits
from ._stacks import thread_stack

STOP_GRACE_S = 1.0  # a loop restarted on the same thread within this is one run
LEAVE_AFTER_S = 5.0  # a watcher whose thread runs no loop for this long exits
POLL_S = 0.01  # how often a stalled loop is re-checked
ALERT_S = 10.0  # after a stall, stalls in the making are looked for this long...
ALERT_FIRST_S = 2.0  # ...or this long, unless it is one of REPEATS within ALERT_S
REPEATS = 3  # a server's start-up and its first request stall once each, then no more
CALM_S = 1.0  # how often a calm loop's watcher looks
ON_CPU_SHARE = 0.5
MIN_CPU_WINDOW_S = 0.005  # a shorter look at the stalled thread says nothing
WAITS_CPU_SHARE = 0.015  # of one core at most, for the task snapshots
WAITS_OWN_SHARE = 0.015  # of the loop thread's own CPU time at most, for them too
WAITS_MAX_GAP_S = 1.0  # however little the loop computes, a snapshot a second
WAITS_STALL_S = 0.001  # what one snapshot may hold the loop for
FIRST_TASKS = 200  # tasks walked by the first snapshot; then adapted to WAITS_STALL_S
MAX_TASKS = 10000


def tick_intervals(probe):
    """(tick_s, calm_s, block_s): the beat's interval on alert (``tick_ms``, 10) and on a
    calm loop (``calm_tick_ms``), and the stall threshold (``block_ms``, 30). The calm
    interval defaults to twice the tick, at most ``block_ms - tick_ms`` (20 ms with the
    defaults): a stall of ``block_ms + calm_tick_ms`` (50 ms) still always measures at
    least ``block_ms``, and the beat wakes an idle loop half as often (each wake-up of
    the loop costs some 50-65 µs of CPU on a VM: ``bench/results/beat_wakeups.md``)."""
    tick_s = probe.opt("tick_ms", 10) / 1000.0
    block_s = probe.opt("block_ms", 30) / 1000.0
    calm_ms = probe.opt("calm_tick_ms", None)
    calm_s = min(2 * tick_s, block_s - tick_s) if calm_ms is None else calm_ms / 1000.0
    return tick_s, max(tick_s, calm_s), block_s


def _deltas(start, end):
    """(cpu_s, wait_s or None) between two ``(cpu_s, wait_s)`` readings of a thread."""
    wait = None if start[1] is None or end[1] is None else max(0.0, end[1] - start[1])
    return max(0.0, end[0] - start[0]), wait


def _stall_times(rec, span, cpu_s, wait_s):
    """A ``block`` record's ``cpu_ms``, ``wait_ms`` and ``on_cpu``: the loop thread wanted
    a CPU (on one, or runnable and waiting for one) for at least ON_CPU_SHARE of ``span``."""
    rec["cpu_ms"] = round(cpu_s * 1000, 3)
    busy_s = cpu_s
    if wait_s is not None:
        rec["wait_ms"] = round(wait_s * 1000, 3)
        busy_s += wait_s
    rec["on_cpu"] = busy_s / span >= ON_CPU_SHARE


def woken_ready(lag, span):
    """The share of a woken task's weight that a snapshot counts as waiting for the loop:
    its wait ended when the loop's poll returned, at most about ``lag`` (how late the
    snapshot ran) ago; the snapshot stands for ``span`` seconds, and for the rest of them
    the task waited on what it awaited. A snapshot taken at the end of a late iteration
    (the loop thread preempted, or busy) sees every task whose I/O came in meanwhile as
    woken; counting each of them as waiting for the loop for the whole span made an
    upstream's wait read as CPU on a busy machine."""
    if span <= 0:
        return 1.0
    return min(1.0, max(0.0, lag) / span)


class _Tick:
    __slots__ = ("all_tasks", "due", "loop", "ran_at", "since", "tasks", "waits", "waits_cpu",
                 "waits_dur", "want_tasks", "want_waits")

    def __init__(self, want_tasks, want_waits, all_tasks, loop, due=None, since=None):
        self.due = due  # when the tick was due (or posted): its lateness bounds a wake-up's
        self.since = since  # the span its snapshot stands for, in seconds
        self.ran_at = None
        self.tasks = None
        self.waits = None
        self.waits_dur = 0.0
        self.waits_cpu = 0.0
        self.want_tasks = want_tasks  # the exact count (``tasks`` record)
        self.want_waits = want_waits  # 0, or the most tasks to walk
        self.all_tasks = all_tasks
        self.loop = loop

    def __call__(self):
        self.ran_at = time.perf_counter()
        if not self.want_tasks and not self.want_waits:
            return  # a lag tick alone: no clock read beyond its own
        cpu0 = time.thread_time()
        try:
            listed = None
            if self.want_tasks:
                listed = self.all_tasks()
                self.tasks = len(listed)
            if self.want_waits:
                woken = 1.0
                if self.due is not None and self.since is not None:
                    woken = woken_ready(self.ran_at - self.due, self.since)
                drawn = None if listed is not None else _waits.sample(self.loop,
                                                                      self.want_waits)
                if drawn is not None:
                    self.waits = _waits.snapshot(drawn[0], self.want_waits, live=drawn[1],
                                                 woken=woken)
                else:
                    if listed is None:
                        listed = self.all_tasks()
                    self.waits = _waits.snapshot(listed, self.want_waits, woken=woken)
                self.waits_dur = time.perf_counter() - self.ran_at
                self.waits_cpu = time.thread_time() - cpu0
        except Exception:
            pass



def _next_snapshot(now, cost, waits_s, busy):
    """When the next task snapshot is due: slowed so that a snapshot and its record
    (``cost``, CPU seconds) take at most WAITS_OWN_SHARE of the CPU the loop thread used
    (``busy``, cores; None when unknown) and at most WAITS_CPU_SHARE of a core: a
    server's cost per request stays the same whatever its rate (a fixed share of a core
    is 9% of a server using 0.17 of one). At least one snapshot every WAITS_MAX_GAP_S.
    Costs are CPU time (``thread_time``): a snapshot preempted on a busy machine did
    not cost more."""
    share = WAITS_CPU_SHARE
    if busy is not None:
        share = min(share, WAITS_OWN_SHARE * busy)
    gap = cost / share if share > 0 else WAITS_MAX_GAP_S
    return now + min(max(WAITS_MAX_GAP_S, waits_s), max(waits_s, gap))


def _write_waits(owner, tick, dt, send):
    """Hand ``send`` (``probe.write``, or ``probe.defer`` on the loop thread) the
    ``waits`` record of ``tick``'s snapshot (standing for ``dt`` s) and size the next
    one (``owner.max_tasks``) to take at most WAITS_STALL_S of CPU."""
    send(_waits.record(tick.waits, owner.tid, dt, tick.waits_dur))
    walked = tick.waits[2]
    if walked and tick.waits_cpu > 0:
        fit = int(WAITS_STALL_S * walked / tick.waits_cpu)
        owner.max_tasks = max(50, min(MAX_TASKS, fit))


class _Snaps:
    """The task counts and snapshots of a loop watched for lag, taken by its beat
    (:class:`_Beat`), on the loop thread, when they are due: the thread is awake
    anyway, where a watcher's wake-up to post a tick costs the process ~150 µs of CPU on
    a VM (and a write to the loop's self-pipe); the tasks cannot change under the walk.
    The records are written here too. The budget (:func:`_next_snapshot`) counts the
    loop thread's own CPU clock, the snapshot's and the loop's alike."""
    __slots__ = ("all_tasks", "last_waits", "loop", "mark", "max_tasks", "next", "next_tasks",
                 "next_waits", "probe", "tasks_s", "tid", "waits_s")

    def __init__(self, watcher, loop, all_tasks):
        self.probe = watcher.probe
        self.tid = watcher.tid
        self.tasks_s = watcher.tasks_s
        self.waits_s = watcher.waits_s
        self.max_tasks = watcher.max_tasks
        self.loop = loop
        self.all_tasks = all_tasks
        self.next_tasks = self.next_waits = self.next = time.perf_counter()
        self.last_waits = None
        self.mark = None  # (perf_counter, thread_time) at the last snapshot

    def __call__(self, now, due=None):
        count_due, want_waits = now >= self.next_tasks, now >= self.next_waits
        if count_due:
            self.next_tasks = now + self.tasks_s
        since = now - self.last_waits if self.last_waits is not None else self.waits_s
        tick = _Tick(count_due, self.max_tasks if want_waits else 0, self.all_tasks, self.loop,
                     due=due, since=since)
        tick()
        if count_due and tick.tasks is not None:
            self.probe.defer({"type": "tasks", "thread_id": self.tid, "n": tick.tasks})
        if want_waits:
            self.next_waits = self._after(tick, now)
        self.next = min(self.next_tasks, self.next_waits)

    def _after(self, tick, now):
        t0 = time.thread_time()
        if tick.waits is not None:
            last, self.last_waits = self.last_waits, tick.ran_at
            _write_waits(self, tick, tick.ran_at - last if last is not None else self.waits_s,
                         self.probe.defer)
        cpu = time.thread_time()
        cost = tick.waits_cpu + cpu - t0
        wall = time.perf_counter()
        mark, self.mark = self.mark, (wall, cpu)
        busy = None
        if mark is not None and wall > mark[0]:
            busy = max(0.0, cpu - mark[1]) / (wall - mark[0])
        return _next_snapshot(now, cost, self.waits_s, busy)


class _Beat:
    """The lag ticks, run by the loop itself: a timer that re-arms itself every
    ``tick_s`` (``loop.call_later``) and notes how late it ran. No thread wakes up and
    nothing is written to the loop's self-pipe per tick: on a busy loop the timer rides
    on the iterations the loop makes anyway. Every ``window_s`` the beat makes the
    window's ``lag`` record itself (a few µs on the loop thread, where a watcher's
    wake-up to make it costs the process ~150 µs on a VM), deferred (``probe.defer``):
    the watcher writes it at its next wake-up, as a write to a busy disk can sleep. A
    stall (a lag of ``stall_s``) is noted and wakes the watcher. ``due`` is written before ``seq``, so a
    reader that reads ``seq`` first never pairs a new ``seq`` with an old ``due``.

    Each tick also takes the raw reading of the loop thread's CPU and run-queue time
    (``sched``: one ``pread``, about 1 µs, parsed only for a stall), so that a stall comes
    with what the thread did over it, from the tick before to the one that was late."""
    __slots__ = ("alive", "calm_s", "due", "fine_until", "first_due", "lags", "loop", "probe",
                 "ran", "ran_prev", "sched", "sched_read", "seq", "snaps", "stall_s", "stalls",
                 "tick_s", "tid", "wake", "window_s", "window_start")

    def __init__(self, loop, tick_s, calm_s, stall_s, window_s, probe, tid, wake, snaps=None,
                 sched_read=None):
        self.loop = loop
        self.tick_s = tick_s
        self.calm_s = calm_s  # the interval while the watcher is not on alert
        self.fine_until = 0.0  # perf_counter until which the interval is tick_s (set by
        # the watcher when a stall puts it on alert)
        self.stall_s = stall_s
        self.window_s = window_s
        self.probe = probe
        self.tid = tid
        self.wake = wake  # the watcher's Event
        self.due = time.perf_counter()  # the first run is posted with call_soon_threadsafe
        self.first_due = self.due  # its lag is the loop's start-up
        self.window_start = self.due
        self.seq = 0
        self.ran = self.ran_prev = None
        self.lags = []
        # (due, lag, (ran, sched) at the tick before, (ran, sched) now) of each tick at
        # least stall_s late
        self.stalls = []
        self.alive = True
        self.snaps = snaps  # the task counts and snapshots (_Snaps), or None
        self.sched_read = sched_read  # the raw reading of the loop thread's times, or None
        self.sched = None

    def __call__(self):
        now = time.perf_counter()
        sched = self.sched_read() if self.sched_read is not None else None
        due = self.due
        lag = now - due
        self.lags.append(lag)
        if lag >= self.stall_s:
            self.stalls.append((self.due, lag, (self.ran, self.sched), (now, sched)))
            self.wake.set()
        self.sched = sched
        self.ran_prev, self.ran = self.ran, now
        if self.alive:
            interval = self.tick_s if now < self.fine_until else self.calm_s
            self.due = now + interval
            try:
                self.loop.call_later(interval, self)
            except RuntimeError:  # closing
                self.alive = False
        self.seq += 1
        if now - self.window_start >= self.window_s:
            self._window(now)
        snaps = self.snaps
        if snaps is not None and now >= snaps.next:
            try:
                snaps(now, due)
            except Exception:
                self.snaps = None

    def _window(self, now):
        lags = sorted(max(0.0, v) for v in self.lags)
        self.lags = []
        start, self.window_start = self.window_start, now
        if lags:
            self.probe.defer({"type": "lag", "thread_id": self.tid, "n": len(lags),
                              "p50_ms": round(lags[len(lags) // 2] * 1000, 3),
                              "max_ms": round(lags[-1] * 1000, 3),
                              "interval_ms": round((now - start) * 1000, 1)})


class _Pending:
    """The beat ``seq`` as a tick for :meth:`Watcher._late`: ``ran_at`` is None until it
    has run."""
    __slots__ = ("beat", "seq")

    def __init__(self, beat, seq):
        self.beat = beat
        self.seq = seq

    @property
    def ran_at(self):
        beat = self.beat
        done = beat.seq - self.seq
        if done <= 0:
            return None
        return beat.ran if done == 1 else beat.ran_prev

class Watcher:
    def __init__(self, probe, ident, lag, tasks, forget):
        self.probe = probe
        self.ident = ident
        self.tid = threading.get_native_id()
        self.lag = lag
        self.tasks = tasks
        self._forget = forget
        self.tick_s, self.calm_s, self.block_s = tick_intervals(probe)
        self.window_s = probe.opt("lag_interval_ms", 100) / 1000.0
        self.tasks_s = probe.opt("tasks_ms", 500) / 1000.0
        # task snapshots (``waits``): every waits_ms (with the counts when 0), slowed down
        # so they cost at most WAITS_OWN_SHARE of the loop thread's CPU (_after_snapshot),
        # each walking at most max_tasks
        self.waits_s = (probe.opt("waits_ms", 0) / 1000.0) or self.tasks_s
        self.max_tasks = FIRST_TASKS
        self._waits_mark = None  # (perf_counter, loop thread's CPU s) at the last snapshot
        self.cpu = _cpu.reader_for_current_thread()
        self.loop = None
        self.gen = 0
        self.exited = False
        self.running_since = None  # wall time of the current (merged) run
        self.stopped_at = None  # wall time of a stop not yet written
        self._wake = threading.Event()

    # -- called in the loop thread ------------------------------------------------
    def started(self, loop):
        self.gen += 1
        self.loop = loop
        if self.stopped_at is not None:  # restarted within the grace: the same run
            self.stopped_at = None
        elif self.running_since is None:
            self.running_since = time.time()
            kind = type(loop).__module__.split(".")[0]
            thread = threading._active.get(self.ident)
            self.probe.defer({"type": "loop", "event": "start", "thread_id": self.tid,
                              "thread_name": getattr(thread, "name", None),
                              "loop": "uvloop" if kind == "uvloop" else "asyncio",
                              "loop_class": f"{type(loop).__module__}.{type(loop).__qualname__}"})
        self._wake.set()

    def stopped(self):
        self.gen += 1
        self.loop = None
        self.stopped_at = time.time()
        self._wake.set()

    # -- the watcher thread -------------------------------------------------------
    def run(self):
        idle_since = None
        while True:
            loop, gen = self.loop, self.gen
            if loop is not None:
                idle_since = None
                self._watch(loop, gen)
                continue
            self.probe.flush()
            self._flush_stop(time.time() - STOP_GRACE_S)
            now = time.monotonic()
            idle_since = idle_since or now
            if self.stopped_at is None and now - idle_since > LEAVE_AFTER_S and self._forget(self):
                self.close()
                return
            self._wake.wait(0.25)
            self._wake.clear()

    def _flush_stop(self, before):
        stopped_at = self.stopped_at
        if stopped_at is not None and stopped_at <= before and self.loop is None:
            self.stopped_at = None
            self.running_since = None
            self.probe.write({"type": "loop", "event": "stop", "thread_id": self.tid,
                              "t": stopped_at})

    def finish(self):
        """At exit: write the stop of a run that ended, or is still going."""
        if self.loop is not None and self.stopped_at is None:
            self.stopped_at = time.time()
        self.loop = None
        self._flush_stop(float("inf"))

    def _sleep_until(self, deadline, gen):
        """Sleep until ``deadline`` (perf_counter); False if the loop stopped meanwhile.

        ``time.sleep``, not ``Event.wait``: a timed Event wait costs about twice the CPU
        per wake-up, and the watcher wakes up to 100 times a second. A stop is noticed
        at the next wake-up instead, at most one tick later."""
        left = deadline - time.perf_counter()
        if left > 0 and self.gen == gen:
            time.sleep(left)
        return self.gen == gen

    def _read_cpu(self):
        try:
            return self.cpu() if self.cpu is not None else None
        except (OSError, ValueError, IndexError):
            self.close()
            return None

    def close(self):
        cpu, self.cpu = self.cpu, None
        if cpu is not None:
            cpu.close()

    def _watch(self, loop, gen):
        if self.lag:
            return self._watch_lag(loop, gen)
        from asyncio import all_tasks
        lags = []
        window_start = time.perf_counter()
        next_tasks = next_waits = window_start
        last_waits = None
        period = min(self.tick_s if self.lag else self.tasks_s, self.waits_s)
        while self.gen == gen:
            now = time.perf_counter()
            want_waits = self.max_tasks if self.tasks and now >= next_waits else 0
            count_due = self.tasks and now >= next_tasks
            tick = _Tick(count_due, want_waits, all_tasks, loop,
                         since=now - last_waits if last_waits is not None else self.waits_s)
            if count_due:
                next_tasks = now + self.tasks_s
            posted_wall = time.time()
            posted = tick.due = time.perf_counter()
            try:
                loop.call_soon_threadsafe(tick)
            except RuntimeError:  # closed under us; wait for the stop hook
                self._sleep_until(posted + 0.05, gen)
                continue
            if not self._sleep_until(posted + period, gen):
                return
            late = tick.ran_at is None and self.lag
            if late and not self._late(tick, posted, posted_wall, gen):
                return
            while tick.ran_at is None:
                if not self._sleep_until(time.perf_counter() + POLL_S, gen):
                    return
            if count_due and tick.tasks is not None:
                self.probe.write({"type": "tasks", "thread_id": self.tid, "n": tick.tasks})
            if want_waits:
                next_waits = self._after_snapshot(tick, now, last_waits)
                last_waits = tick.ran_at
            if not self.lag:
                continue
            lags.append(tick.ran_at - posted)
            end = time.perf_counter()
            if end - window_start >= self.window_s:
                lags.sort()
                self.probe.write({"type": "lag", "thread_id": self.tid, "n": len(lags),
                                  "p50_ms": round(lags[len(lags) // 2] * 1000, 3),
                                  "max_ms": round(lags[-1] * 1000, 3),
                                  "interval_ms": round((end - window_start) * 1000, 1)})
                lags = []
                window_start = end

    def _watch_lag(self, loop, gen):
        """Lag from the loop's own timer (``_Beat``), which also writes the ``lag``
        records and takes the task counts and snapshots (``_Snaps``). This thread wakes
        once every ``CALM_S`` on a calm loop (a stall longer than that is caught in
        progress), and at once when the beat saw a stall (a lag of ``block_s``). For
        ``ALERT_S`` after a stall it also wakes when the pending beat is ``block_s / 2``
        past its due time (a stall in the making: then :meth:`_late` follows it, taking
        the stack while the loop is stuck), every 15-25 ms with the defaults. Each
        wake-up costs the process some 150 µs of CPU on a VM (GIL hand-over, timer, two
        context switches): 60 a second on alert are ~1% of a core, so a stall alerts for
        ``ALERT_FIRST_S`` only, and for ``ALERT_S`` when it is the ``REPEATS``-th within
        ``ALERT_S`` (a server's start-up and its first request, which import and
        compile on the loop, are two: they used to keep a calm server on alert for 10 s
        of every run; the first beat's lag, the loop's own start, alerts but is not
        counted: the first request often comes within those 2 s). A stall the loop
        thread spent on the run queue (:meth:`_queued`) does not alert at all. A stall
        that no wake-up saw in progress (the first of a calm
        spell) still gets its ``block`` record, from the beat, without a stack or
        ``on_cpu``."""
        snaps = None
        if self.tasks:
            from asyncio import all_tasks
            snaps = _Snaps(self, loop, all_tasks)
        beat = _Beat(loop, self.tick_s, self.calm_s, self.block_s, self.window_s, self.probe,
                     self.tid, self._wake, snaps, self._raw_sched)
        try:
            loop.call_soon_threadsafe(beat)
        except RuntimeError:  # closed under us; wait for the stop hook
            self._sleep_until(time.perf_counter() + 0.05, gen)
            return
        look = (time.perf_counter(), self._read_cpu())  # at the last wake: where a stall's
        # CPU window starts, so that it covers the stall from before the watcher saw it
        alert_until = 0.0  # perf_counter until which stalls in the making are looked for
        recent = []  # perf_counter when the watcher saw each alerting stall of the last ALERT_S
        caught = set()  # due times of the stalls :meth:`_late` wrote
        try:
            while self.gen == gen:
                now = time.perf_counter()
                seq = beat.seq
                due = beat.due
                # late enough to be a stall in the making; early enough to follow the
                # loop thread's CPU over most of a stall of block_s (on_cpu)
                check_at = due + self.block_s / 2
                if now < alert_until:
                    if not self._sleep_until(check_at, gen):
                        return
                else:  # woken early by a stall the beat saw, or by a stop
                    self._wake.wait(CALM_S)
                    self._wake.clear()
                    if self.gen != gen:
                        return
                if beat.seq == seq and time.perf_counter() >= check_at:
                    wall = time.time() - (time.perf_counter() - due)
                    if not self._late(_Pending(beat, seq), due, wall, gen, look):
                        return
                    caught.add(due)
                look = (time.perf_counter(), self._read_cpu())
                self.probe.flush()  # what the beat deferred (lag, tasks, waits)
                stalls, beat.stalls = beat.stalls, []
                if stalls:
                    stalls = [(due, lag, self._over(before, after))
                              for due, lag, before, after in stalls]
                    alerting = [due for due, _, over in stalls if not self._queued(over)]
                    if alerting:
                        now = time.perf_counter()
                        recent = [t for t in recent if now - t <= ALERT_S]
                        recent += [now for due in alerting if due != beat.first_due]
                        long = len(recent) >= REPEATS
                        alert_until = max(alert_until, now + (ALERT_S if long else ALERT_FIRST_S))
                        beat.fine_until = alert_until
                    self._unseen_stalls(stalls, caught)
                    caught.clear()
        finally:
            beat.alive = False

    def _raw_sched(self):
        """The beat's reading of the loop thread's times (on the loop thread), or None."""
        cpu = self.cpu
        try:
            return cpu.raw() if cpu is not None else None
        except (OSError, ValueError):
            return None

    def _over(self, before, after):
        """(span_s, cpu_s, wait_s or None) of the loop thread between two beat readings,
        or None when either is missing."""
        cpu = self.cpu
        if cpu is None or before[0] is None or before[1] is None or after[1] is None:
            return None
        try:
            deltas = _deltas(cpu.parse(before[1]), cpu.parse(after[1]))
        except (ValueError, IndexError):
            return None
        return (after[0] - before[0], *deltas)

    def _queued(self, over):
        """True for a stall the loop thread spent waiting for a CPU: without its time on
        the run queue it would not have been a stall (the rest of the span, computing
        or blocked, is shorter than ``block_s``). Another process kept the core: no sign
        that the app stalls, so it puts the watcher on alert no longer (on a busy
        machine such stalls come many times a second, and each alert would cost ~60
        wake-ups a second)."""
        if over is None or over[2] is None:
            return False
        span, _, wait = over
        return span - wait < self.block_s

    def _unseen_stalls(self, stalls, caught):
        """A ``block`` record for each stall the beat saw that :meth:`_late` did not:
        its due time and length are exact; what held the loop is unknown (no stack), but
        the beat's readings give the loop thread's CPU and run-queue time over it, from
        the tick before: ``on_cpu`` as :meth:`_late` reckons it."""
        for due, lag, over in stalls:
            if due in caught:
                continue
            rec = {"type": "block", "t": time.time() - (time.perf_counter() - due),
                   "thread_id": self.tid, "stack": [], "dur_ms": round(lag * 1000, 3),
                   "on_cpu": None}
            if over is not None and over[0] >= MIN_CPU_WINDOW_S:
                _stall_times(rec, *over)
            self.probe.write(rec)

    def _after_snapshot(self, tick, now, last):
        """Write a snapshot's record (the ``tasks`` feature alone: its ticks are posted
        by this thread); the time of the next one (:func:`_next_snapshot`), the budget
        counting the snapshot (on the loop thread) and its record (here)."""
        t0 = time.thread_time()
        if tick.waits is not None:
            _write_waits(self, tick, tick.ran_at - last if last is not None else self.waits_s,
                         self.probe.write)
        cost = tick.waits_cpu + time.thread_time() - t0
        mark, cpu = self._waits_mark, self._read_cpu()
        wall = time.perf_counter()
        busy = None
        if mark is not None and cpu is not None and wall > mark[0]:
            busy = max(0.0, cpu[0] - mark[1]) / (wall - mark[0])  # cores, of the loop thread
        self._waits_mark = (wall, cpu[0]) if cpu is not None else None
        return _next_snapshot(now, cost, self.waits_s, busy)

    def _late(self, tick, posted, posted_wall, gen, since=None):
        """The tick is late: the loop thread is stuck or busy right now. Follow its CPU
        use from now until the tick runs (or, if that window is too short to say
        anything, from ``since``: the watcher's previous look, perf_counter and CPU) (reading it on every tick would cost a syscall
        each). If the tick is still pending ``block_s - tick_s / 2`` after the post, take
        the loop thread's stack, and again at ``block_s``, keeping only a stack taken
        while the tick was still pending (a loaded loop is often 10-20 ms late, and
        those ticks must stay cheap). If the lag reached ``block_s``, write a ``block``
        record. False if the loop stopped meanwhile."""
        stack = None
        cpu0 = self._read_cpu()
        wall0 = time.perf_counter()
        last_wall, last_cpu = wall0, cpu0  # the tick may have run already: then from ``since``
        block_at = posted + self.block_s
        next_stack = block_at - self.tick_s / 2
        while tick.ran_at is None:
            now = time.perf_counter()
            if now >= next_stack:
                sample = thread_stack(self.ident)
                if tick.ran_at is None:
                    stack = sample
                next_stack = block_at if now < block_at else float("inf")
            cpu = self._read_cpu()
            if tick.ran_at is None:
                last_wall, last_cpu = time.perf_counter(), cpu
            wake = min(next_stack, time.perf_counter() + POLL_S)
            if not self._sleep_until(wake, gen):
                return False
        if tick.ran_at - posted < self.block_s:
            return True
        rec = {"type": "block", "t": posted_wall, "thread_id": self.tid, "stack": stack or [],
               "dur_ms": round((tick.ran_at - posted) * 1000, 3), "on_cpu": None}
        short = last_wall is None or last_wall - wall0 < MIN_CPU_WINDOW_S
        if short and since is not None and since[1] is not None and last_cpu is not None:
            wall0, cpu0 = since  # seen late: the window from the watcher's previous look
        if cpu0 is not None and last_cpu is not None and last_wall - wall0 >= MIN_CPU_WINDOW_S:
            _stall_times(rec, last_wall - wall0, *_deltas(cpu0, last_cpu))
        self.probe.write(rec)
        return True
