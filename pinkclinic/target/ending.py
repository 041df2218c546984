"""How a target's run ended, in words the manifest and the report can use."""

from __future__ import annotations

import signal
import time
from dataclasses import asdict, dataclass, field

# Ending.outcome -> manifest status.outcome ("stopped"/"detached" depend on the caller:
# completed or interrupted).
MANIFEST_OUTCOME = {"exited": "target-exited", "crashed": "target-crashed"}


def signal_name(sig: int) -> str:
    try:
        return signal.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


@dataclass
class Ending:
    """``outcome`` is one of:

    * ``stopped``: pinkclinic stopped it (``stop_signal`` is the last signal it needed);
    * ``exited``: it exited on its own, with ``returncode`` (``None`` if not our child);
    * ``crashed``: it died of a signal nobody in pinkclinic sent (``kill -9`` from outside,
      the OOM killer, a segfault); ``signal`` names it;
    * ``detached``: an attached process, left running as pinkclinic found it.
    """

    outcome: str
    detail: str
    returncode: int | None = None
    signal: str | None = None
    stop_signal: str | None = None
    t: float = field(default_factory=time.time)

    def manifest_outcome(self, otherwise: str = "completed") -> str:
        """The ``status.outcome`` for the manifest; ``otherwise`` when we ended the run."""
        return MANIFEST_OUTCOME.get(self.outcome, otherwise)

    def as_dict(self) -> dict:
        return asdict(self)


def classify(returncode: int | None, *, stop_signal: int | None = None) -> Ending:
    """Turn a ``Popen.returncode`` into an Ending. ``stop_signal`` is the last signal
    pinkclinic sent before the process ended (``None`` if it ended on its own).

    A shell wrapper reports a child killed by signal N as exit code 128+N; such codes
    count as crashes too."""
    sig = None
    if returncode is not None and returncode < 0:
        sig = -returncode
    elif returncode is not None and 128 < returncode <= 128 + 64:
        sig = returncode - 128
    code = "no exit code" if returncode is None else f"exit code {returncode}"
    if stop_signal is not None:
        how = signal_name(stop_signal)
        note = "" if stop_signal == signal.SIGINT else " (it did not stop on SIGINT in time)"
        return Ending("stopped", f"stopped by pinkclinic with {how}{note}; {code}",
                      returncode, signal_name(sig) if sig else None, how)
    if sig is not None:
        name = signal_name(sig)
        why = {signal.SIGKILL: " (kill -9 from outside, or the kernel's OOM killer)",
               signal.SIGSEGV: " (a crash in native code)",
               signal.SIGABRT: " (aborted)"}.get(sig, "")
        return Ending("crashed", f"the target was killed by {name}{why}; {code}", returncode, name)
    if returncode is None:
        return Ending("exited", "the target exited on its own (its exit code is not visible)")
    return Ending("exited", f"the target exited on its own with {code}", returncode)
