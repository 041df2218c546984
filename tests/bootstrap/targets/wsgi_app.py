"""A WSGI app for gunicorn: ``/sleep`` holds the worker 50 ms."""
import time


def app(environ, start_response):
    if environ.get("PATH_INFO") == "/sleep":
        time.sleep(0.05)
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
