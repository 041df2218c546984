"""What a suspended asyncio task waits on: the kind and resource of its leaf.

Called by ``_waits`` on the loop thread, for one task at a time, with the frames of
its await chain (outermost first) and ``task._fut_waiter`` (the future it is blocked
on, ``None`` for a task that is ready to run). Kinds:

``socket``      a transport or stream read/write; ``resource`` is the peer
``lock`` ``semaphore`` ``condition`` ``event`` ``queue``  an asyncio primitive
``executor``    a ``run_in_executor``/``to_thread`` future
``sleep``       a timer; ``ready``: runnable, waiting for the loop; ``other``

Only attributes are read (``self`` of a few innermost frames, the future's
callbacks): nothing is called on the target's objects but ``get_extra_info``.
"""
import os
import threading

_PRIMITIVES = {"Lock": "lock", "Semaphore": "semaphore", "BoundedSemaphore": "semaphore",
               "Condition": "condition", "Event": "event", "Queue": "queue",
               "LifoQueue": "queue", "PriorityQueue": "queue"}
_LINKS = ("_protocol", "protocol", "_connection", "connection", "_con", "_conn",
          "_stream", "_reader", "_writer", "_transport", "transport")
INNER_FRAMES = 6  # innermost frames searched for the leaf's owner


def _asyncio_file(frame, name):
    return _asyncio_path(frame.f_code.co_filename, name)


def _asyncio_path(fn, name):
    """``fn`` is asyncio's file ``name`` (``.py``: any file of asyncio)."""
    return fn.endswith(name) and (fn[:-len(name)].endswith(("/asyncio/", "\\asyncio\\"))
                                  or (name == ".py" and _in_asyncio(fn)))


_KINDS = {}  # id(code) -> (code, its leaf kind: "sleep", "primitive" or ""), code kept alive


def _code_kind(code):
    """What a frame of ``code`` says about the leaf: asyncio's ``sleep``, a method of an
    asyncio primitive (locks.py, queues.py), or nothing. Cached per code object: the
    innermost frames of most tasks run the same few functions."""
    hit = _KINDS.get(id(code))
    if hit is not None and hit[0] is code:
        return hit[1]
    fn = code.co_filename
    if code.co_name == "sleep" and _asyncio_path(fn, "tasks.py"):
        kind = "sleep"
    elif _asyncio_path(fn, "locks.py") or _asyncio_path(fn, "queues.py"):
        kind = "primitive"
    else:
        kind = ""
    if len(_KINDS) >= 10000:
        _KINDS.clear()
    _KINDS[id(code)] = (code, kind)
    return kind


def _in_asyncio(fn):
    return os.path.basename(os.path.dirname(fn)) == "asyncio"


def _self_of(frame):
    try:
        return frame.f_locals.get("self")
    except Exception:
        return None


def _attr(obj, name):
    """``obj.name`` if it is plain data (in ``__dict__`` or a slot): never a property."""
    try:
        d = getattr(obj, "__dict__", None)
        if d is not None and name in d:
            return d[name]
        if isinstance(getattr(type(obj), name, None), property):
            return None
        return getattr(obj, name, None)
    except Exception:
        return None


def _peername(obj):
    """The peer address of a transport (an object whose type has ``get_extra_info``)."""
    try:
        peer = obj.get_extra_info("peername")
    except Exception:
        peer = None
    if not peer:
        return None
    if isinstance(peer, (tuple, list)) and len(peer) >= 2:
        host = peer[0]
        return f"[{host}]:{peer[1]}" if ":" in str(host) else f"{host}:{peer[1]}"
    return str(peer)


_ROUTES = {}  # type -> the links that led from an object of it to a transport with a peer


def _search(obj, depth, seen):
    """(peer, links) of the transport reachable from ``obj`` in a few links, or None."""
    if obj is None or id(obj) in seen or depth > 3:
        return None
    seen.add(id(obj))
    if getattr(type(obj), "get_extra_info", None) is not None:
        peer = _peername(obj)
        return (peer, ()) if peer else None
    for name in _LINKS:
        found = _search(_attr(obj, name), depth + 1, seen)
        if found:
            return found[0], (name, *found[1])
    return None


def _peer(obj):
    """The peer address of the transport reachable from ``obj`` in a few links. Objects
    of one type reach their transport by the same links: once a search has found them
    (eleven attributes tried per object, three deep), the next object of that type
    follows them first (a stream reader per connection, 10 µs of the loop thread's time
    per task and snapshot before)."""
    if obj is None:
        return None
    route = _ROUTES.get(type(obj))
    if route is not None:
        end = obj
        for name in route:
            end = _attr(end, name)
        if end is not None and getattr(type(end), "get_extra_info", None) is not None:
            peer = _peername(end)
            if peer:
                return peer
    found = _search(obj, 0, set())
    if found is None:
        return None
    if len(_ROUTES) < 1000:
        _ROUTES[type(obj)] = found[1]
    return found[0]


def _primitive(kind, obj, owner):
    detail = {"type": type(obj).__name__}
    waiters = _attr(obj, "_waiters")
    if kind == "queue":
        waiters = _attr(obj, "_getters")
        detail["maxsize"] = _attr(obj, "_maxsize")
        q = _attr(obj, "_queue")
        detail["qsize"] = len(q) if q is not None else None
    elif kind == "semaphore":
        detail["value"] = _attr(obj, "_value")
        bound = _attr(obj, "_bound_value")
        if bound is not None:
            detail["size"] = bound
    elif kind == "lock":
        detail["locked"] = bool(_attr(obj, "_locked"))
    try:
        detail["waiters"] = len(waiters) if waiters is not None else 0
    except TypeError:
        pass
    resource = f"asyncio.{type(obj).__name__}@{id(obj):x}"
    if owner is not None:  # a pool built on the primitive (asyncpg's Pool on a LifoQueue)
        cls = type(owner)
        resource = f"{cls.__module__}.{cls.__qualname__}@{id(owner):x}"
        for name in ("_maxsize", "maxsize", "_max_size", "_size"):
            size = _attr(owner, name)
            if isinstance(size, int):
                detail["size"] = size
                break
    return kind, resource, detail


def _executors():
    """{id(work queue): executor} for the live ThreadPoolExecutors, from their threads."""
    out = {}
    for t in threading.enumerate():
        args = getattr(t, "_args", None)
        if getattr(getattr(t, "_target", None), "__name__", "") != "_worker" or not args:
            continue
        try:
            ex = args[0]()
        except Exception:
            ex = None
        if ex is not None:
            out[id(ex)] = ex
    return out


def _executor(fut, cache):
    source = None
    for cb, *_ in list(_attr(fut, "_callbacks") or ()):
        for cell in getattr(cb, "__closure__", None) or ():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            if type(value).__module__ == "concurrent.futures._base":
                source = value
    if source is None:
        return None
    state = _attr(source, "_state")
    if "executors" not in cache:
        cache["executors"] = _executors()
    detail = {"state": str(state).lower()}
    resource = "executor"
    exs = list(cache["executors"].values())
    if len(exs) == 1:
        ex = exs[0]
        threads = _attr(ex, "_threads") or ()
        idle = _attr(_attr(ex, "_idle_semaphore"), "_value") or 0
        detail.update(size=_attr(ex, "_max_workers"), threads=len(threads),
                      busy=max(0, len(threads) - idle))
        try:
            detail["queued"] = ex._work_queue.qsize()
        except Exception:
            pass
        resource = f"ThreadPoolExecutor@{id(ex):x}"
    return "executor", resource, detail


def _owner(outer_frames, obj):
    """A pool built on the queue: ``self`` of the first frame outside asyncio."""
    for outer in reversed(outer_frames):
        o = _self_of(outer)
        if o is not None and o is not obj and not _asyncio_file(outer, ".py"):
            return o
    return None


def classify(frames, fut, cache):
    """(kind, resource, detail) of a task suspended in ``frames`` on ``fut``."""
    if fut is None:
        return "ready", "", None
    inner = frames[-INNER_FRAMES:]
    for i in range(len(inner) - 1, -1, -1):
        frame = inner[i]
        kind = _code_kind(frame.f_code)
        if kind == "sleep":
            return "sleep", "", None
        if kind == "primitive":
            obj = _self_of(frame)
            kind = _PRIMITIVES.get(type(obj).__name__)
            for klass in type(obj).__mro__ if kind is None else ():
                kind = kind or _PRIMITIVES.get(klass.__name__)
            if kind is not None:
                key = ("primitive", id(obj))
                if key not in cache:  # tasks waiting on one primitive share its leaf
                    cache[key] = _primitive(kind, obj, _owner(inner[:i], obj) if kind == "queue"
                                            else None)
                return cache[key]
    found = _executor(fut, cache)
    if found is not None:
        return found
    for frame in reversed(inner):
        obj = _self_of(frame)
        if obj is None:
            continue
        key = ("peer", id(obj))
        if key not in cache:
            cache[key] = _peer(obj)
        if cache[key]:
            return "socket", cache[key], None
    return "other", type(fut).__name__, None
