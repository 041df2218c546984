"""The per-request timing wrappers of feature ``routes`` (ASGI and WSGI).

Each wrapper adds, per HTTP request: two ``perf_counter`` reads, one small list (the
status cell that the wrapped ``send``/``start_response`` fills) with that callable, and
one tuple ``(method, path, start, end, status)`` appended to the feature's list. No
lock, no formatting: the probe's sampler thread does the rest (``routes.py``).

Only the path is kept, never the query string: ASGI's ``scope["path"]`` and WSGI's
``SCRIPT_NAME + PATH_INFO`` carry none. ``status`` is the answer's status (ASGI: the
``http.response.start`` message; WSGI: the string given to ``start_response``, parsed
later), 500 when the app raised before answering, 0 when it raised after (a cut answer).
ASGI ``lifespan`` and ``websocket`` scopes are passed through untimed. A WSGI request's
time ends when the app returns its iterable: a body generated lazily while the server
iterates it is not counted.
"""
import time

MARK = "__pinkclinic_routes__"  # set on a wrapper: an app is never wrapped twice


def is_wrapped(app):
    return getattr(app, MARK, False)


def asgi(app, append, state):
    now = time.perf_counter

    async def pinkclinic_routes_asgi(scope, receive, send):
        if not state[0] or scope.get("type") != "http":
            return await app(scope, receive, send)
        cell = [0]

        async def timed_send(message):
            if message.get("type") == "http.response.start":
                cell[0] = message.get("status", 0)
            await send(message)

        t0 = now()
        try:
            result = await app(scope, receive, timed_send)
        except BaseException:
            append((scope.get("method", "?"), scope.get("path", ""), t0, now(), 0 if cell[0] else 500))
            raise
        append((scope.get("method", "?"), scope.get("path", ""), t0, now(), cell[0]))
        return result

    setattr(pinkclinic_routes_asgi, MARK, True)
    pinkclinic_routes_asgi.__wrapped__ = app
    return pinkclinic_routes_asgi


def wsgi(app, append, state):
    now = time.perf_counter

    def pinkclinic_routes_wsgi(environ, start_response):
        if not state[0]:
            return app(environ, start_response)
        cell = [0]

        def timed_start_response(status, headers, exc_info=None):
            cell[0] = status
            if exc_info is None:
                return start_response(status, headers)
            return start_response(status, headers, exc_info)

        t0 = now()
        try:
            result = app(environ, timed_start_response)
        except BaseException:
            append((environ.get("REQUEST_METHOD", "?"),
                    environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), t0, now(),
                    0 if cell[0] else 500))
            raise
        append((environ.get("REQUEST_METHOD", "?"),
                environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), t0, now(), cell[0]))
        return result

    setattr(pinkclinic_routes_wsgi, MARK, True)
    pinkclinic_routes_wsgi.__wrapped__ = app
    return pinkclinic_routes_wsgi
