"""One ``pinkclinic bench`` run on the terminal: the tables, and Ctrl-C's results so far."""

from __future__ import annotations

import re
import signal
import subprocess

from tests.commands.bench.test_interrupts import wait_for_requests
from tests.helpers import pinkclinic_cmd, run_cli


def test_tables_and_full_latency(serve):
    s = serve("count")
    proc = run_cli("bench", "-a", "500", "-c", "4", "-l", s.url, check=True)
    out = proc.stdout
    assert "Running 500 requests test @" in out
    for word in ("Latency", "Req/Sec", "Bytes/Sec", "99.999%", "# of samples"):
        assert word in out
    assert re.search(r"500 requests in [\d.]+s, [\d.]+ kB read", out), out
    # sub-millisecond latencies keep two decimals
    assert re.search(r"│ Latency +│ +\d+\.\d\d ms", out), out
    assert " 0 ms" not in out


def test_ctrl_c_prints_the_results_so_far(serve):
    s = serve("count")
    proc = subprocess.Popen(pinkclinic_cmd("bench", "-d", "60", "-c", "4", "-j", s.url),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_requests(s, proc)  # the load (and its Ctrl-C handler) runs: no fixed sleep
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert '"interrupted": true' in out
    assert '"total": 0' not in out
    assert "Traceback" not in err


def test_ctrl_c_with_workers(serve):
    s = serve("count")
    proc = subprocess.Popen(pinkclinic_cmd("bench", "-d", "60", "-c", "4", "-w", "2", s.url),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    wait_for_requests(s, proc)  # the load (and its Ctrl-C handler) runs: no fixed sleep
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted after" in out and "requests in" in out
    assert "Traceback" not in err
