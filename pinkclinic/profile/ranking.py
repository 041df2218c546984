"""Which of the user's own functions the time goes to: the console's "hottest app functions".

A function's *self* time is misleading for app code: ``hash_password`` that calls
``hashlib.pbkdf2_hmac`` has almost no self time under pyinstrument or ``--native``
(the C function is the leaf), and 98% with plain py-spy (C frames are not shown).
So the console ranks app functions by **own** time: the samples in which the
function is the *innermost app frame* on the stack, i.e. its own lines plus the
library, standard-library and C code it calls that does not call back into app
code. Own times of distinct functions never overlap, so they add up to at most
100% of the base.
"""

from __future__ import annotations

from typing import NamedTuple

from pinkclinic.profile.areas import APP
from pinkclinic.profile.model import Profile


class AppStat(NamedTuple):
    frame: int
    own: float
    self: float
    total: float


def is_app_frame(profile: Profile, fid: int) -> bool:
    f = profile.frames[fid]
    return f.area == APP and not f.file.startswith("<")


def app_hotspots(profile: Profile, *, idle: bool = False) -> list[AppStat]:
    """App functions, the largest own time first (then total, then frame id)."""
    app = [is_app_frame(profile, i) for i in range(len(profile.frames))]
    own: dict[int, float] = {}
    for _, frames, w, _ in profile.iter_stacks(idle=idle):
        for fid in reversed(frames):
            if app[fid]:
                own[fid] = own.get(fid, 0) + w
                break
    stats = {s.frame: s for s in profile.functions(idle=idle)}
    out = [AppStat(f, own.get(f, 0), stats[f].self, stats[f].total)
           for f in stats if app[f]]
    out.sort(key=lambda s: (-s.own, -s.total, s.frame))
    return out
