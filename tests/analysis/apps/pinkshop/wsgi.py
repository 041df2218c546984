"""pinkshop's WSGI app: /delay/<seconds> waits in delay_response (as httpbin's /delay
does), /items answers at once."""

import json
import time


def delay_response(seconds: float) -> bytes:
    time.sleep(seconds)  # the wait a diagnosis must name
    return json.dumps({"delayed": seconds}).encode()


def list_items() -> bytes:
    return json.dumps({"items": [1, 2, 3]}).encode()


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path.startswith("/delay/"):
        body = delay_response(min(float(path.rsplit("/", 1)[1] or 0), 1.0))
    else:
        body = list_items()
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(body)))])
    return [body]
