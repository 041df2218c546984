"""The target: launch (behind an exec gate, with a parent-death watchdog) or attach,
find the listening port, and stop the whole process tree.

The sequence doctor/flame/heap/bench follow::

    target = spawn(command, port=opts.port)          # PID known; PinkError if not found
    rec = Recording.create(dest, name or str(target.pid), kind, command=target.command)
    target.release(rec.file("target.log"), env=probe_env(rec.path, features))
    rec.mark("launched", target.launched)
    sampler = ProcessSampler.for_recording(rec, target.pid, interval=ms / 1000,
                                           returncode=lambda pid: target.returncode).start()
    listening = target.wait_listening(start_timeout, port=opts.port, probe_dir=rec.path)
    rec.mark("listening")
    spy = PySpy(target.pid, rec.file("pyspy.speedscope.json"), watchdog=target.watchdog)
    spy.start(); spy.register(rec)                   # CollectorUnavailable -> signals_missing
    ... load; target.exited is set if the server dies meanwhile ...
    spy.stop()                                       # py-spy first: it must not outlive
    ending = target.stop(stop_timeout)               # SIGINT -> SIGTERM -> SIGKILL
    sampler.stop()                                   # after: it records the exits
    rec.update(target=target.manifest_target(),
               status={"outcome": ending.manifest_outcome(), "detail": ending.detail})

``attach(pid)`` replaces spawn/release for ``--pid``; its ``stop()`` only detaches.
Every failure a user can cause is a one-line :class:`pinkclinic.errors.PinkError`.
"""

from pinkclinic.target.attach import AttachedTarget, attach
from pinkclinic.target.base import Target
from pinkclinic.target.ending import Ending
from pinkclinic.target.env import probe_env
from pinkclinic.target.launch import LaunchedTarget, launch, spawn
from pinkclinic.target.ports import Listening, check_port_free, http_answers

__all__ = ["AttachedTarget", "Ending", "LaunchedTarget", "Listening", "Target", "attach",
           "check_port_free", "http_answers", "launch", "probe_env", "spawn"]
