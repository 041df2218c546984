"""Listening TCP sockets of this process, from /proc (Linux): (family, host, port, fd).

``/proc/self/net/tcp`` lists every socket of the network namespace (tens of thousands
on a busy host), so it is read only when one of our socket descriptors has an inode
not classified by an earlier scan. An inode is classified once it shows up listening,
in another TCP state, or as a UDP or Unix socket; a TCP socket that is only bound is
in no table yet (it may listen later), so it is looked up again at the next scan.
"""
import os
import socket

_LISTEN = "0A"


def _decode(hex_addr, family):
    raw = bytes.fromhex(hex_addr)
    # /proc prints each 32-bit word in host byte order (little-endian here)
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    return socket.inet_ntop(family, words)


def _tcp(wanted):
    """{inode: (state, family, host, port)} for the TCP sockets among ``wanted``."""
    found = {}
    for name, family, fam in (("tcp", socket.AF_INET, "inet"),
                              ("tcp6", socket.AF_INET6, "inet6")):
        try:
            with open("/proc/self/net/" + name) as f:
                next(f, None)
                for line in f:
                    parts = line.split(None, 10)
                    if len(parts) < 10 or parts[9] not in wanted:
                        continue
                    if parts[3] != _LISTEN:
                        found[parts[9]] = (parts[3], None, None, None)
                        continue
                    addr, port = parts[1].split(":")
                    found[parts[9]] = (_LISTEN, fam, _decode(addr, family), int(port, 16))
        except (OSError, ValueError):
            continue
    return found


def _other(wanted):
    """The inodes among ``wanted`` that are UDP or Unix sockets."""
    found = set()
    for name, column in (("udp", 9), ("udp6", 9), ("unix", 6)):
        try:
            with open("/proc/self/net/" + name) as f:
                next(f, None)
                for line in f:
                    parts = line.split()
                    if len(parts) > column and parts[column] in wanted:
                        found.add(parts[column])
        except OSError:
            continue
    return found


def socket_fds():
    """{inode: fd} for every socket descriptor of this process."""
    out = {}
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return out
    for fd in fds:
        try:
            link = os.readlink("/proc/self/fd/" + fd)
        except OSError:
            continue
        if link.startswith("socket:["):
            out[link[8:-1]] = int(fd)
    return out


def _connected(fd):
    """Is ``fd`` a connected socket (peer set, not listening)? Two syscalls, instead of
    reading the namespace's whole TCP table (milliseconds with tens of thousands of
    sockets) for every connection a server accepts. False when unsure."""
    try:
        sock = socket.socket(fileno=fd)
    except OSError:
        return False
    try:
        if sock.getsockopt(socket.SOL_SOCKET, getattr(socket, "SO_ACCEPTCONN", 30)):
            return False
        sock.getpeername()
        return True
    except OSError:
        return False
    finally:
        sock.detach()  # the descriptor stays the target's: never closed here


class Scanner:
    def __init__(self):
        self.known = set()  # inodes classified by an earlier scan

    def scan(self):
        """New listening sockets since the last scan: [(family, host, port, fd)]."""
        fds = socket_fds()
        self.known &= set(fds)
        new = {inode: fd for inode, fd in fds.items() if inode not in self.known}
        for inode, fd in list(new.items()):
            if _connected(fd):  # an accepted or outgoing connection: it will never listen
                self.known.add(inode)
                del new[inode]
        if not new:
            return []
        tcp = _tcp(new)
        self.known.update(tcp)
        rest = set(new) - set(tcp)
        if rest:
            self.known.update(_other(rest))
        return sorted((fam, host, port, new[inode])
                      for inode, (state, fam, host, port) in tcp.items() if state == _LISTEN)
