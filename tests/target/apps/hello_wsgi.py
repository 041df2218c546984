"""A WSGI hello-world for gunicorn, with a little CPU work so py-spy sees the workers."""


def app(environ, start_response):
    sum(i * i for i in range(2000))
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]
