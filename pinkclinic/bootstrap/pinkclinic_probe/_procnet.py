"""Listening TCP sockets of this process, from /proc (Linux): (family, host, port, fd)."""
import os
import socket

_LISTEN = "0A"


def _decode(hex_addr, family):
    raw = bytes.fromhex(hex_addr)
    # /proc prints each 32-bit word in host byte order (little-endian here)
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return socket.inet_ntop(family, words)


def _listening_inodes():
    found = {}
    for name, family, fam in (("tcp", socket.AF_INET, "inet"),
                              ("tcp6", socket.AF_INET6, "inet6")):
        try:
            with open("/proc/self/net/" + name) as f:
                next(f, None)
                for line in f:
                    parts = line.split()
                    if len(parts) < 10 or parts[3] != _LISTEN:
                        continue
                    addr, port = parts[1].split(":")
                    found[parts[9]] = (fam, _decode(addr, family), int(port, 16))
        except (OSError, ValueError):
            continue
    return found


def listening_sockets():
    inodes = _listening_inodes()
    if not inodes:
        return []
    out = []
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return []
    for fd in fds:
        try:
            link = os.readlink("/proc/self/fd/" + fd)
        except OSError:
            continue
        if link.startswith("socket:["):
            hit = inodes.get(link[8:-1])
            if hit is not None:
                out.append((*hit, int(fd)))
    return sorted(out)
