"""How asyncio tasks await one another: a task's chain of awaits, and the groups of
tasks one task awaits at once, so that ``_waits`` can give each child its parent's
logical stack and the parent's time.

A child of a group is found from its done callbacks, which asyncio registers per kind
(``group``); the parent, from what it is suspended on and its innermost frames
(``awaited``)::

    kind            the child's callback                    the parent awaits
    await task      the parent's bound ``task_wakeup``      the child
    gather          ``_done_callback`` (closes over outer)  the outer future
    shield          ``_inner_done_callback`` (outer)        the outer future
    TaskGroup 3.11+ the group's bound ``_on_task_done``     ``_on_completed_fut``
    wait            ``_on_completion`` (``waiter``)          ``waiter``, in ``_wait``
    as_completed    ``_on_completion`` (``done``, ``todo``)  a getter of ``done``
                    or, 3.13+, ``_handle_completion``
    wait_for <3.12  ``partial(_release_waiter, waiter)``    ``waiter``; 3.12+: the child

The rule, one for every kind: a parent suspended on a group is not counted (``carried``);
each of the group's N live members that carry time (unfinished tasks, nested gathers and
shields) weighs 1/N of it. A link is made only when both sides agree (the parent is
``carried``), so changed internals leave the child unlinked and the parent counted:
never a wrong link, never time counted twice. A plain future in a group with tasks (an
executor's, say) is not counted: its siblings share the parent's time; as_completed's
members cannot be seen from the parent before 3.13, which is then always carried.
Bounded: climbs stop at ``MAX_LINKS``, chains at ``MAX_CHAIN``, and a group of more than
``MAX_COUNT`` members is counted on a sample of them.
"""
import functools
import random
import types

from . import _leaf

_FUNCTION = types.FunctionType
MAX_CHAIN = 64
MAX_LINKS = 8  # groups climbed from a task to the one whose time it carries
MAX_COUNT = 256  # members of a group counted one by one; more: estimated on a sample
# where a task awaiting a group is suspended: function -> its file in asyncio
_PARENT_FRAMES = {"_wait": "tasks.py", "wait_for": "tasks.py", "_cancel_and_wait": "tasks.py",
                  "_wait_for_one": "tasks.py", "__aexit__": "taskgroups.py",
                  "_aexit": "taskgroups.py"}


def chain(task):
    """The frames of a task's chain of awaits, outermost first."""
    out = []
    try:
        obj = task.get_coro()
    except Exception:
        return out
    while obj is not None and len(out) < MAX_CHAIN:
        frame = getattr(obj, "cr_frame", None) or getattr(obj, "gi_frame", None) \
            or getattr(obj, "ag_frame", None)
        if frame is not None:
            out.append(frame)
        obj = (getattr(obj, "cr_await", None) or getattr(obj, "gi_yieldfrom", None)
               or getattr(obj, "ag_await", None))
    return out


def _callbacks(fut):
    try:
        entries = getattr(fut, "_callbacks", None)
        return [e[0] if type(e) is tuple else e for e in entries] if entries else ()
    except Exception:
        return ()


def _cells(cb):
    for cell in getattr(cb, "__closure__", None) or ():
        try:
            yield cell.cell_contents
        except ValueError:
            continue


def _free(cb):
    """{name: value} of a closure's free variables."""
    names = getattr(getattr(cb, "__code__", None), "co_freevars", ())
    out = {}
    for name, cell in zip(names, getattr(cb, "__closure__", None) or ()):
        try:
            out[name] = cell.cell_contents
        except ValueError:
            continue
    return out


def state(fut):
    """True if ``fut`` is done, False if pending, None if it is no future."""
    try:
        done = type(fut).done(fut)
    except Exception:
        return None
    return done if isinstance(done, bool) else None


def shielded(fut):
    """The task ``asyncio.shield`` runs, if ``fut`` is a shield's outer future: the one
    its ``_outer_done_callback`` closes over (done or not)."""
    for cb in _callbacks(fut):
        if getattr(cb, "__name__", "") == "_outer_done_callback":
            for value in _cells(cb):
                if value is not fut and hasattr(value, "get_coro"):
                    return value
    return None


def _carries(member):
    """A live member that carries time: a task, or a gather or shield that tasks link up to."""
    return state(member) is False and (hasattr(member, "get_coro") or shielded(member) is not None
                                       or getattr(member, "_children", None) is not None)


def _live(members):
    """How many of ``members`` carry time; estimated on a sample beyond MAX_COUNT. 0 if
    they cannot be read: not linked."""
    try:
        seq = members if isinstance(members, (list, tuple)) else tuple(members)
        if len(seq) <= MAX_COUNT:
            n = 0
            for m in seq:
                if _carries(m):
                    n += 1
            return n
        hits = sum(1 for i in random.sample(range(len(seq)), MAX_COUNT) if _carries(seq[i]))
        return max(1, round(len(seq) * hits / MAX_COUNT))
    except Exception:
        return 0


def _getter(queue):
    """The first pending getter of an asyncio.Queue: the future of whoever awaits it."""
    for getter in list(getattr(queue, "_getters", None) or ()):
        if state(getter) is False:
            return getter
    return None


def _locals(frame):
    try:
        return frame.f_locals
    except Exception:
        return {}


def _asyncio(frame, name):
    return _leaf._asyncio_file(frame, name)


class Memo:
    """What one snapshot has found, each at most once: whether a task is ``carried``,
    groups' live counts (by id, the members kept alive so ids stay theirs), and the tasks
    whose group has just ended (``ended``). No new container per entry: the objects a
    snapshot keeps until its end are what triggers the garbage collector's passes, each
    through every live task."""

    __slots__ = ("carried", "counts", "ended", "kept")

    def __init__(self):
        self.carried, self.counts, self.ended, self.kept = {}, {}, set(), []

    def count(self, members):
        found = self.counts.get(id(members))
        if found is None:
            found = self.counts[id(members)] = _live(members)
            self.kept.append(members)
        return found


def awaited(task, frames=None):
    """(the future ``task`` is suspended on, the members of the group it awaits) or None
    if it awaits no group. Members None: a group whose members the parent cannot see
    (as_completed before 3.13)."""
    try:
        w = getattr(task, "_fut_waiter", None)
        if w is None:
            return None
        if hasattr(w, "get_coro"):
            return w, (w,)
        children = getattr(w, "_children", None)
        if children is not None:
            return w, children
        inner = shielded(w)
        if inner is not None:
            return w, (inner,)
        frames = chain(task) if frames is None else frames
        if not frames:
            return None
        f = frames[-1]
        name = f.f_code.co_name
        if name == "get":  # Queue.get, under as_completed's _wait_for_one?
            f = frames[-2] if len(frames) > 1 else f
            name = f.f_code.co_name
        where = _PARENT_FRAMES.get(name)
        if where is None or not _asyncio(f, where):
            return None
        loc = _locals(f)
        if name == "_wait" and loc.get("waiter") is w:
            return (w, loc["fs"]) if "fs" in loc else None
        if name in ("wait_for", "_cancel_and_wait") and loc.get("waiter") is w and "fut" in loc:
            return w, (loc["fut"],)
        owner = loc.get("self")
        if name in ("__aexit__", "_aexit") and getattr(owner, "_on_completed_fut", None) is w:
            return w, owner._tasks
        if name == "_wait_for_one" and _locals(frames[-1]).get("getter") is w:
            queue = _locals(frames[-1]).get("self")
            if loc.get("done") is queue:  # before 3.13: the members are not in reach
                return w, None
            if getattr(owner, "_done", None) is queue and hasattr(owner, "_todo"):
                return w, owner._todo
    except Exception:
        return None
    return None


def carried(task, memo, frames=None):
    """Whether ``task``'s time is carried by the tasks it awaits (it is not counted);
    ``frames``: its chain, if known."""
    found = memo.carried.get(task)
    if found is None:
        g = awaited(task, frames)
        found = memo.carried[task] = g is not None and (g[1] is None or memo.count(g[1]) > 0)
        if g is not None and not found and _all_done(g[1]):
            memo.ended.add(task)
    return found


def _all_done(members):
    """Every member is done, their callbacks not yet run: the parent is as good as woken."""
    try:
        return len(members) <= MAX_COUNT and all(state(m) is True for m in members)
    except Exception:
        return False


def group(fut):
    """(what the parent awaits for ``fut``: the awaiting task itself or a future, the
    members of ``fut``'s group or None for ``fut`` alone) or None, from ``fut``'s done
    callbacks (the kinds above)."""
    for cb in _callbacks(fut):
        try:
            found = _group_of(cb, fut)
        except Exception:
            found = None
        if found is not None and found[0] is not None and found[0] is not fut:
            return found
    return None


def _group_of(cb, fut):
    if type(cb) is _FUNCTION:  # a closure: gather, shield, wait, as_completed
        return _closure_group(cb, fut)
    if type(cb) is functools.partial:  # wait_for before 3.12, _cancel_and_wait
        waiter = cb.args[0] if cb.args else None
        if getattr(cb.func, "__name__", "") == "_release_waiter" and state(waiter) is False:
            return waiter, None
        return None
    owner = getattr(cb, "__self__", None)
    if owner is None or owner is fut:
        return None
    if hasattr(owner, "get_coro"):
        return owner, None  # await task
    if hasattr(owner, "_on_completed_fut") and hasattr(owner, "_tasks"):  # TaskGroup
        up = owner._on_completed_fut
        return (up, owner._tasks) if state(up) is False else None
    if hasattr(owner, "_todo") and hasattr(owner, "_done"):  # as_completed, 3.13+
        return _getter(owner._done), owner._todo
    return None


def _closure_group(cb, fut):
    name = cb.__name__
    if name == "_on_completion":
        free = _free(cb)
        if "waiter" in free:  # wait: its members are in the parent's _wait
            waiter = free["waiter"]
            for wake in _callbacks(waiter):
                parent = getattr(wake, "__self__", None)
                if hasattr(parent, "get_coro"):
                    g = awaited(parent)
                    return (waiter, g[1]) if g is not None and g[0] is waiter else None
        elif "done" in free and "todo" in free:  # as_completed before 3.13
            return _getter(free["done"]), free["todo"]
        return None
    for cell in cb.__closure__ or ():
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if value is fut:
            continue
        children = getattr(value, "_children", None)
        if children is not None:  # gather's _done_callback
            return value, children
        if name == "_inner_done_callback" and hasattr(value, "_callbacks"):  # shield
            return value, None
    return None


def awaiter(fut, memo):
    """(the task whose time ``fut`` carries a share of, that share) or None: climbs
    ``group`` from ``fut`` (through nested gathers and shields) up to a task that is
    ``carried``, dividing by each group's live members. Per task, so a sampled snapshot
    never scans every task; ``memo`` keeps each group's count for one snapshot."""
    share = 1.0
    for _ in range(MAX_LINKS):
        g = group(fut)
        if g is None:
            return None
        up, members = g
        if members is not None:
            n = memo.count(members)
            if n < 1:
                return None
            share /= n
        if hasattr(up, "get_coro"):
            return (up, share) if carried(up, memo) else None
        fut = up
    return None
