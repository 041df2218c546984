"""``H1ClosingConn``: the connection class once the server has closed one connection.

``H1Conn`` has no headers callback (it costs time on every response), so when a
connection ends with a response in progress it can only guess from the last chunk
whether the body was one ended by the close. The first close sets ``Connections.precise``,
and every later connection is an ``H1ClosingConn``, which notes it at the headers.
"""

from __future__ import annotations

from pinkclinic.load.http1.conn import H1Conn, no_length


class H1ClosingConn(H1Conn):
    """For servers that close connections: notes at the headers whether the body ends at EOF."""

    __slots__ = ()  # head_chunk is H1Conn's slot, set by its __init__

    def on_headers_complete(self) -> None:
        # the chunk the headers ended in, when the connection ends after this response: it
        # is only looked at (no_length) if the connection ends with the response unfinished
        self.head_chunk = None if self.parser.should_keep_alive() else self.last

    def eof_delimited(self) -> bool:
        return self.head_chunk is not None and no_length(self.head_chunk)
