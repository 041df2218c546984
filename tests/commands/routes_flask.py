"""A Flask app with a slow route and a cheap one, for the per-route table of ``--on-port``
runs under gunicorn (``gunicorn tests.commands.routes_flask:app``).

/slow/<id> waits ~30 ms (a sleep: an upstream call's stand-in); /fast answers at once;
/fail/<id> answers 500.
"""

import time

from flask import Flask

app = Flask(__name__)


@app.route("/slow/<int:item>")
def slow(item):
    time.sleep(0.03)
    return {"item": item}


@app.route("/fast")
def fast():
    return "ok"


@app.route("/fail/<int:item>")
def fail(item):
    return "no", 500
