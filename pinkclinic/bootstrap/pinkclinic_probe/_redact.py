"""The target's command line as the probe may record it: secrets masked.

The probe cannot import pinkclinic (it runs in the target's interpreter), so this is the
command-line part of :mod:`pinkclinic.redact`, kept to the same rules (a test compares
the two): the value of an option named like a secret (``--token x``, ``--api-key=x``),
the password of a ``user:password@`` URL, secret query parameters, and secret headers.
"""

import re

MASK = "***"
_ALWAYS = ("authorization", "proxy-authorization", "cookie", "set-cookie")
_WORD = "(?:token|key|secret|passw)"
_FLAG = re.compile(r"^(--?[\w-]*" + _WORD + r"[\w-]*)(=)?(.*)$", re.I | re.S)
_URL = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@'\"]*):([^@\s/'\"]+)@", re.I)
_QUERY = re.compile(r"([?&;][\w.-]*(?:token|key|secret|passw|auth|sig)[\w.-]*=)([^&#\s'\"]+)", re.I)
_HEADER = re.compile(r"((?<![^\s'\"=])(?:proxy-authorization|authorization|set-cookie|cookie|[\w-]*"
                     + _WORD + r"[\w-]*))(\s*:[ \t]*)([^'\"\r\n]+)", re.I)
_SCHEME = re.compile(r"^([A-Za-z][\w.+-]*)\s+\S")


def _header(m):
    name, value = m.group(1), m.group(3)
    s = _SCHEME.match(value.strip())
    if s and name.lower() in ("authorization", "proxy-authorization"):
        return name + m.group(2) + s.group(1) + " " + MASK
    return name + m.group(2) + MASK


def text(s):
    s = _URL.sub(lambda m: m.group(1) + ":" + MASK + "@", s)
    s = _QUERY.sub(lambda m: m.group(1) + MASK, s)
    return _HEADER.sub(_header, s)


def argv(args):
    out, mask_next = [], False
    for a in args:
        a = str(a)
        if mask_next:
            out.append(MASK)
            mask_next = False
            continue
        m = _FLAG.match(a)
        if m and len(m.group(1)) > 2:
            if m.group(2):
                out.append(m.group(1) + "=" + MASK)
                continue
            if not m.group(3):
                mask_next = True
                out.append(a)
                continue
        out.append(text(a))
    return out
