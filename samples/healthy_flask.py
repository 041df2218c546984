"""healthy on flask + gunicorn with two sync workers. Expected verdict: healthy.

    pinkclinic doctor -- gunicorn -w 2 -b 127.0.0.1:8000 --chdir samples healthy_flask:app
"""

from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/")
def index():
    return jsonify({"hello": "world"})
