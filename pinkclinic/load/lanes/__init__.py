"""The engine of protocols driven one awaited exchange at a time per lane (a WebSocket
connection, an HTTP/2 stream slot), and its runner."""
