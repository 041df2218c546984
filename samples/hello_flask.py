"""A Flask hello-world on the standard library's threaded WSGI server. For benchmarks.

    python samples/hello_flask.py [PORT]
"""

import sys

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return {"hello": "world"}


if __name__ == "__main__":
    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    app.run(host="127.0.0.1", port=port, threaded=True)
