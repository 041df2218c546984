"""The target: launch (behind an exec gate, with a parent-death watchdog) or attach,
find the listening port, and stop the whole process tree.

See :mod:`pinkclinic.target.launch` for the launch sequence.
"""

from pinkclinic.target.attach import AttachedTarget, attach
from pinkclinic.target.base import Target
from pinkclinic.target.ending import Ending
from pinkclinic.target.env import probe_env
from pinkclinic.target.launch import LaunchedTarget, launch, spawn
from pinkclinic.target.ports import Listening, check_port_free, http_answers

__all__ = ["AttachedTarget", "Ending", "LaunchedTarget", "Listening", "Target", "attach",
           "check_port_free", "http_answers", "launch", "probe_env", "spawn"]
