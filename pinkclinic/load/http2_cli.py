"""``pinkclinic bench --http2 [--streams N] URL``: bench's options, HTTP/2 underneath."""

from __future__ import annotations

from pinkclinic.load.http2.run import H2Spec, run_h2
from pinkclinic.load.options import spec_from_options


def h2_spec(url: str, opts: dict, streams: int | None) -> H2Spec:
    if "://" not in url:
        url = "http://" + url
    scheme, _, rest = url.partition("://")
    base = spec_from_options("http://" + rest if scheme == "https" else url, opts)
    return H2Spec.from_spec(base, url, streams or 1)


def h2_main(url: str, opts: dict, wf: dict, *, as_json: bool, full_latency: bool,
            no_progress: bool) -> int:
    from pinkclinic.load.single_cli import run_single

    spec = h2_spec(url, opts, wf["streams"])

    def to_json(r):
        return {**r.to_json(), "protocol": "h2", "streams": spec.streams,
                "streamsAsked": spec.streams_asked or spec.streams,
                "serverMaxStreams": spec.server_max_streams}

    return run_single(spec, run_h2, as_json=as_json, full_latency=full_latency,
                      no_progress=no_progress, to_json=to_json)
