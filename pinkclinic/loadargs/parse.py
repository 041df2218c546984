"""Load options as words: bench's options after they were parsed, doctor's ``--load``
string, and compare's ``--load`` (which also takes ``--http2`` and ``--streams``).

Every parser here uses the declarations of :mod:`pinkclinic.loadargs.options`, so the
flags, their checks and their errors are those of ``pinkclinic bench``.
"""

from __future__ import annotations

import dataclasses
import shlex
from pathlib import Path

import click

from pinkclinic.errors import UsageError
from pinkclinic.load.core.reqfile import parse_header, read_steps, templates
from pinkclinic.load.core.spec import LoadSpec
from pinkclinic.load.core.urls import join_base, join_url
from pinkclinic.load.protocols import build_spec
from pinkclinic.loadargs.options import load_options


def spec_from_options(url: str, o: dict) -> LoadSpec:
    """Build a LoadSpec from the parsed option values (keyed by the parameter names of
    :data:`~pinkclinic.loadargs.options.LOAD_OPTIONS`)."""
    body = None if o.get("body") is None else o["body"].encode()
    if o.get("input_file"):
        if body is not None:
            raise UsageError("give either --body or --input, not both")
        try:
            body = Path(o["input_file"]).read_bytes()
        except OSError as e:
            raise UsageError(f"cannot read {o['input_file']}: {e.strerror}") from None
    method = o["method"].upper()
    headers = [parse_header(h) for h in o.get("headers") or ()]
    requests = []
    if o.get("requests_file"):  # -m, -H, -b and -i are defaults for every step
        steps = read_steps(o["requests_file"])
        for st in steps:
            if not st["path"].startswith("/"):
                raise UsageError(f"invalid request path {st['path']!r}: must start with /")
        requests = templates(steps, method, headers, body)
    if o.get("no_correction") and o.get("rate") is None:
        raise UsageError("--no-correction only applies with --rate")
    return LoadSpec(
        url=url, connections=o["connections"], pipelining=o["pipelining"],
        duration=o["duration"], amount=o["amount"], timeout=o["timeout"],
        method=method, headers=headers, body=body, requests=requests, warmup=o["warmup"],
        workers=o["workers"], rate=o["rate"], correction=not o.get("no_correction"))


@click.command(context_settings={"help_option_names": []}, add_help_option=False)
@load_options
@click.argument("target", required=False)
def load_command(**kw):
    return kw


def parse_bench_args(argv: list[str] | str, base_url: str | None = None) -> LoadSpec:
    """``["-c", "50", "-d", "10", "/items?id=[<id>]"]`` -> LoadSpec.

    The last word, if not an option, is a path joined to ``base_url`` (or a
    full URL); ``/`` by default. Bad options raise ``UsageError`` (one line).
    """
    if isinstance(argv, str):
        argv = shlex.split(argv)
    try:
        ctx = load_command.make_context("--load", list(argv))
    except click.ClickException as e:
        raise UsageError(f"--load: {e.format_message()}") from None
    params = ctx.params
    url = join_url(base_url, params.pop("target"))
    return spec_from_options(url, params)


def load_target(load_args: list[str]) -> str | None:
    """The path word of ``--load`` (``None`` if it has none)."""
    try:
        ctx = load_command.make_context("--load", list(load_args))
    except click.ClickException:
        return None  # parse_bench_args says what is wrong
    return ctx.params.get("target")


def parse_compare_load(load_args: list[str], base_url: str):
    """``--load`` words -> a spec; ``--http2`` and ``--streams N`` are understood too.

    The path is joined under the side's URL (``--a http://h/api`` and ``/items``:
    ``/api/items``), or is the side's own path when ``--load`` gives none. A full URL
    in ``--load`` is refused: it would load a third server for both sides."""
    args, http2, streams = [], False, None
    it = iter(load_args)
    for word in it:
        if word == "--http2":
            http2 = True
        elif word == "--streams" or word.startswith("--streams="):
            value = word.partition("=")[2] or next(it, "")
            if not value.isdigit() or int(value) < 1:
                raise UsageError(f"--load: --streams needs a whole number, got {value!r}")
            streams = int(value)
        else:
            args.append(word)
    target = load_target(args)
    if target is not None and "://" in target:
        raise UsageError(f"--load: {target!r} is a full URL, so both sides would load it; give "
                         "a path (/items): the servers are --a and --b")
    spec = parse_bench_args(args, base_url=base_url)
    url = join_base(base_url, target)
    if url != spec.url:
        spec = dataclasses.replace(spec, url=url)
    if not http2:
        if streams is not None:
            raise UsageError("--load: --streams applies only with --http2")
        return spec
    load = {k: getattr(spec, k) for k in ("connections", "pipelining", "duration", "amount",
                                           "timeout", "warmup", "workers", "rate", "correction")}
    return build_spec(spec.url, method=spec.method, headers=spec.headers, body=spec.body,
                      requests=spec.requests, http2=True, streams=streams, **load)
