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
    * ``exited``: it exited on its own with exit code 0 (or an attached process, whose
      exit code is not visible, is gone);
    * ``crashed``: it ended on its own with a non-zero exit code, or died of a signal
      nobody in pinkclinic sent (``kill -9`` from outside, the OOM killer, a segfault);
      ``signal`` names it;
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

    @property
    def on_its_own(self) -> bool:
        return self.outcome in MANIFEST_OUTCOME

    def as_dict(self) -> dict:
        return asdict(self)


_WHY = {signal.SIGKILL: " (kill -9 from outside, or the kernel's OOM killer)",
        signal.SIGSEGV: " (a crash in native code)", signal.SIGABRT: " (aborted)"}


def classify(returncode: int | None, *, stop_signal: int | None = None) -> Ending:
    """Turn a ``Popen.returncode`` into an Ending. ``stop_signal`` is the last signal
    pinkclinic sent before the process ended (``None`` if it ended on its own).

    A shell wrapper reports a child killed by signal N as exit code 128+N; such codes
    count as deaths by that signal. Any other non-zero exit code on its own is a crash
    too: a server that stops serving with an error is not a normal end of a run."""
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
        return Ending("crashed", f"the target was killed by {name}{_WHY.get(sig, '')}; {code}",
                      returncode, name)
    if returncode is None:
        return Ending("exited", "the target exited on its own (its exit code is not visible)")
    if returncode != 0:
        return Ending("crashed", f"the target crashed: {code}", returncode)
    return Ending("exited", f"the target exited on its own with {code}", returncode)


def describe(ending: Ending, *, after: str = "", last_line: str | None = None) -> str:
    """One line for a target that ended on its own: what happened, when (``after``, e.g.
    "2.5 s into the load") and the last line it printed. E.g. ``the target crashed 2.5 s
    into the load: exit code 1; its last line: 'RuntimeError: database connection lost'``."""
    when = f" {after}" if after else ""
    tail = f"; its last line: {last_line!r}" if last_line else ""
    code = "" if ending.returncode is None else f"exit code {ending.returncode}"
    if ending.outcome == "crashed" and ending.signal:
        sig = getattr(signal, ending.signal, None)
        why = _WHY.get(sig, "") if isinstance(sig, int) else ""
        return f"the target crashed{when}: killed by {ending.signal}{why}{tail}"
    if ending.outcome == "crashed":
        return f"the target crashed{when}: {code}{tail}"
    if ending.outcome == "exited":
        what = f"with {code}" if code else "(its exit code is not visible)"
        return f"the target exited on its own{when} {what}{tail}"
    return ending.detail
