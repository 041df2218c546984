"""`pinkclinic heap` when things go wrong: a target that crashes mid-load, and pinkclinic
itself killed with SIGKILL. Both must leave a recording that gives a heap report."""

from __future__ import annotations

import json
import os
import sys

import pytest

from tests.commands.doctor_run import finish, load_lines, manifest, start, wait_for
from tests.helpers import SAMPLES, TAG_VAR, run_cli, tagged_processes

pytestmark = pytest.mark.timeout(180)

# a stdlib server that keeps 20 kB per request and dies of SIGSEGV on its 1000th request
# (about half a second of load here: the leak has time to show as steady growth)
CRASHING = r'''
import os, signal, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
kept = []
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def do_GET(self):
        kept.append(bytes(20_000))
        if len(kept) >= 1000:
            os.kill(os.getpid(), signal.SIGSEGV)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
'''


def test_a_target_that_crashes_mid_load_still_gives_a_heap_report(tmp_path):
    from tests.helpers import free_port

    script = tmp_path / "crashing.py"
    script.write_text(CRASHING)
    proc = run_cli("heap", "--dest", str(tmp_path), "--name", "crash", "--load",
                   "-c 2 -d 30 /visit?n=[<id>]", "--", sys.executable, str(script),
                   str(free_port()), timeout=150)
    rec = tmp_path / "crash.pinkclinic-heap"
    assert proc.returncode == 1, proc.stderr[-2000:]
    m = manifest(rec)
    assert m["status"]["outcome"] == "target-crashed" and "SIGSEGV" in m["status"]["detail"]
    html = (tmp_path / "crash.pinkclinic-heap.html").read_text()
    assert "crashed" in html
    diagnosis = json.loads((rec / "diagnosis.json").read_text())
    # memray's file was never finalised, yet what it wrote up to the crash is analysed
    assert diagnosis["verdict"] in ("memory-leak", "insufficient-data"), diagnosis["summary"]
    assert "Traceback" not in proc.stderr


def test_pinkclinic_killed_leaves_no_process_and_a_usable_heap_recording(tmp_path):
    proc = start("heap", tmp_path, "k9", "--load", "-c 4 -d 60 /visit?n=[<id>]", "--",
                 sys.executable, str(SAMPLES / "heap" / "known_rate.py"), "--port", "0")
    rec = tmp_path / "k9.pinkclinic-heap"
    wait_for(lambda: load_lines(rec) >= 3, proc=proc, what="load")
    proc.kill()
    finish(proc, timeout=10)
    # the orphan guard fails this test if the server or the load worker survive; wait until
    # the watchdog and the parent-death signals have ended them (memray's file is written
    # as the server goes), then analyse what was written
    wait_for(lambda: not tagged_processes(os.environ[TAG_VAR]), timeout=10,
             what="the server and the load worker to exit")
    again = run_cli("report", str(rec), timeout=120)
    assert again.returncode == 0, again.stderr[-2000:]
    assert (tmp_path / "k9.pinkclinic-heap.html").exists()
    diagnosis = json.loads((rec / "diagnosis.json").read_text())
    assert diagnosis["verdict"] == "memory-leak", diagnosis["summary"]
    culprit = diagnosis["issues"][0]["culprits"][0]
    assert culprit["function"] == "remember_visit"
    assert 15_000 <= culprit["bytes_per_request"] <= 25_000, culprit
