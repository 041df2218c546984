"""The listen feature's /proc scanner: listeners found, connections classified without the
namespace's TCP table (read only for sockets that may still listen)."""

from __future__ import annotations

import socket
import sys

import pytest

from pinkclinic.resources import BOOTSTRAP_DIR

sys.path.insert(0, str(BOOTSTRAP_DIR))
from pinkclinic_probe import _procnet

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc")


def test_listener_found_and_connections_known_without_the_table():
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        port = srv.getsockname()[1]
        scanner = _procnet.Scanner()
        assert ("inet", "127.0.0.1", port, srv.fileno()) in scanner.scan()
        with socket.create_connection(("127.0.0.1", port)) as cli:
            acc, _ = srv.accept()
            with acc:
                assert _procnet._connected(cli.fileno()) and _procnet._connected(acc.fileno())
                assert not _procnet._connected(srv.fileno())
                assert scanner.scan() == []
                inodes = _procnet.socket_fds()
                assert {i for i, fd in inodes.items() if fd in (cli.fileno(), acc.fileno())} \
                    <= scanner.known
                # the descriptors were only looked at: still open and usable
                cli.sendall(b"x")
                assert acc.recv(1) == b"x"
