"""``heap --pid`` where gdb cannot call into a process (gdb's "Couldn't write extended
state status" on some machines): memray's tracker is started by the injected probe
(:class:`pinkclinic.session.probe_attach.InjectedProbe` with its ``memray`` feature,
got in through ``sys.remote_exec`` or hypno, see :mod:`pinkclinic.target.inject`) and
stopped by the probe's removal at the end of the run, which finalises the capture.

Each process of the tree (the master and the live workers, as with memray's own
attach) writes ``memray-<PID>.bin`` into the recording. A process the probe cannot get
into, or whose Python cannot import memray, fails the run in one line: heap has no
out-of-process signal to fall back on. memray's own modules stay imported in the target
after the removal; everything of the probe's leaves.
"""

from __future__ import annotations

import time

from pinkclinic.errors import PinkError
from pinkclinic.probe import probe_file, read_probe_file
from pinkclinic.recording import Recording
from pinkclinic.session.memray_attach import attach_pids, probe_memray_error
from pinkclinic.session.probe_attach import START_TIMEOUT_S, InjectedProbe


class ProbeMemray(InjectedProbe):
    name = "memray"
    start_when = "listening"  # as memray attach: the capture starts when the server listens

    def __init__(self, *, native: bool = False, follow_fork: bool = False):
        super().__init__(["memray"], {"memray_native": native, "memray_follow_fork": follow_fork})
        self.follow_fork = follow_fork

    def target_pids(self, rec: Recording, target) -> list[int]:
        pids = attach_pids(target.python_pid() or target.pid)
        if not self.follow_fork and len(pids) > 1:  # --no-follow-fork: the analysis says so
            rec.update(untracked_workers=pids[1:])
            pids = pids[:1]
        return pids

    def start(self, rec: Recording, target) -> None:
        super().start(rec, target)
        refused = [n.split(": ", 2)[-1] for n in self.notes]
        if refused or not self.pids:
            self.stop(rec)
            raise PinkError("the probe could not be injected to start memray" +
                            (f" ({refused[0][:300]})" if refused else ""))
        self._wait_ready(rec)
        problem = probe_memray_error(rec)
        if problem is not None:
            self.stop(rec)
            raise PinkError(problem)
        for i, pid in enumerate(self.pids):
            rec.register("memray" if i == 0 else f"memray-{pid}", f"memray-{pid}.bin",
                         format="memray", attached=True)

    def _wait_ready(self, rec: Recording) -> None:
        """Until each probe has installed its features (or said why not)."""
        deadline = time.monotonic() + START_TIMEOUT_S
        for pid in self.pids:
            path = rec.file(probe_file(pid))
            while time.monotonic() < deadline:
                if any(r.get("type") == "attach-ready" for r in read_probe_file(path)[1]):
                    break
                time.sleep(0.02)
