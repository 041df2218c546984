"""The per-request timing wrappers of feature ``routes`` (ASGI and WSGI).

Each wrapper adds, per HTTP request: two ``perf_counter`` reads, one closure (the
wrapped ``send``/``start_response``, which notes the status), and
one tuple ``(method, path, start, end, status)`` appended to the feature's list. No
lock, no formatting: the probe's sampler thread does the rest (``routes.py``). The ASGI
``send`` wrapper is a plain function that returns ``send``'s own awaitable, so a request
creates no extra coroutine per message.

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
        if scope["type"] != "http" or not state[0]:
            return await app(scope, receive, send)
        status = 0

        def timed_send(message):  # a plain function returning send's awaitable: no coroutine
            nonlocal status
            if message["type"] == "http.response.start":
                status = message.get("status", 0)
            return send(message)

        t0 = now()
        try:
            result = await app(scope, receive, timed_send)
        except BaseException:
            append((scope.get("method", "?"), scope.get("path", ""), t0, now(), 0 if status else 500))
            raise
        append((scope.get("method", "?"), scope.get("path", ""), t0, now(), status))
        return result

    setattr(pinkclinic_routes_asgi, MARK, True)
    pinkclinic_routes_asgi.__wrapped__ = app
    return pinkclinic_routes_asgi


def wsgi(app, append, state):
    now = time.perf_counter

    def pinkclinic_routes_wsgi(environ, start_response):
        if not state[0]:
            return app(environ, start_response)
        status = 0

        def timed_start_response(line, headers, exc_info=None):
            nonlocal status
            status = line
            if exc_info is None:
                return start_response(line, headers)
            return start_response(line, headers, exc_info)

        t0 = now()
        try:
            result = app(environ, timed_start_response)
        except BaseException:
            append((environ.get("REQUEST_METHOD", "?"),
                    environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), t0, now(),
                    0 if status else 500))
            raise
        append((environ.get("REQUEST_METHOD", "?"),
                environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""), t0, now(), status))
        return result

    setattr(pinkclinic_routes_wsgi, MARK, True)
    pinkclinic_routes_wsgi.__wrapped__ = app
    return pinkclinic_routes_wsgi
