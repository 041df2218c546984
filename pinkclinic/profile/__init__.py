"""Stack samples -> call trees with code areas; exports.

The API the commands use::

    from pinkclinic.profile import build_profile, from_stacks, export
    profile = build_profile(recording_or_dir)          # py-spy / pyinstrument files
    profile = from_stacks([(frames, weight, count, pid, tid), ...], unit="bytes")
    text = export(profile, "speedscope" | "collapsed" | "json")

See :mod:`pinkclinic.profile.model` for the data and
:mod:`pinkclinic.render.flame` for the HTML.
"""

from pinkclinic.profile.areas import APP, IDLE, NATIVE, STDLIB, AreaClassifier
from pinkclinic.profile.builder import ProfileBuilder, from_stacks
from pinkclinic.profile.export import FORMATS, export, to_collapsed, to_json, to_speedscope
from pinkclinic.profile.model import Frame, Profile, ThreadInfo
from pinkclinic.profile.readers import read_collapsed, read_pyinstrument, read_pyspy
from pinkclinic.profile.source import build_profile

__all__ = [
    "APP", "FORMATS", "IDLE", "NATIVE", "STDLIB", "AreaClassifier", "Frame", "Profile",
    "ProfileBuilder", "ThreadInfo", "build_profile", "export", "from_stacks", "read_collapsed",
    "read_pyinstrument", "read_pyspy", "to_collapsed", "to_json", "to_speedscope",
]
