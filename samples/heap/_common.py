"""Shared argument parsing for the heap samples (stdlib only)."""

from __future__ import annotations

import argparse
import os


def port_from_argv(default: int = 8000) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", default)))
    args, _ = parser.parse_known_args()
    return args.port


def number(text: str | None) -> int:
    """The request's ``n`` as an int, leniently: load generators send ids such as
    ``aec31a66-17`` (pinkclinic's ``[<id>]``), so take the digits, or hash the rest."""
    text = text or ""
    digits = "".join(c for c in text if c.isdigit())
    if digits and len(digits) <= 18:
        return int(digits)
    return abs(hash(text)) % 10**9


def run_uvicorn(app, port: int) -> None:
    import uvicorn

    # No access log: the samples are driven at thousands of requests per second.
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
