"""``pinkclinic bench --http2 [--streams N] URL``: bench's options, HTTP/2 underneath."""

from __future__ import annotations

from pinkclinic.commands.bench.single import run_single
from pinkclinic.load.http2.run import H2Spec, h2_json, run_h2
from pinkclinic.loadargs import spec_from_options


def bench_h2(url: str, opts: dict, streams: int | None, *, as_json: bool, full_latency: bool,
             no_progress: bool) -> int:
    """``pinkclinic bench --http2 [--streams N] URL``: bench's options, HTTP/2 underneath."""
    if "://" not in url:
        url = "http://" + url
    scheme, _, rest = url.partition("://")
    base = spec_from_options("http://" + rest if scheme == "https" else url, opts)
    spec = H2Spec.from_spec(base, url, streams or 1)
    return run_single(spec, run_h2, as_json=as_json, full_latency=full_latency,
                      no_progress=no_progress, to_json=h2_json)
