"""WebSocket load (``ws://``, ``wss://``): round trips or pushed messages, each connection a
lane of :mod:`pinkclinic.load.lanes`."""
