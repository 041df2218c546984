"""A server for `pinkclinic diff`: one hot function whose cost is a knob, four steady ones.

    SHOP_RENDER_COST=3 python samples/diff/shop.py     # render_report 3x as costly
    pinkclinic flame --name before -- python samples/diff/shop.py
    SHOP_RENDER_COST=0.333 pinkclinic flame --name after -- python samples/diff/shop.py
    pinkclinic diff .pinkclinic/before.pinkclinic-flame .pinkclinic/after.pinkclinic-flame

Standard library only (asyncio), so it starts fast; PORT=0 picks a free port.
"""

import asyncio
import json
import os

RENDER_COST = float(os.environ.get("SHOP_RENDER_COST", "1"))


def render_report() -> int:
    total = 0
    for i in range(int(60_000 * RENDER_COST)):      # the knob: 60k steps at cost 1
        total = (total * 31 + i * i) % 1_000_003
    return total


def price_cart() -> int:
    total = 0
    for i in range(15_000):
        total = (total * 17 + i) % 999_983
    return total


def check_stock() -> int:
    total = 0
    for i in range(10_000):
        total = (total + i * 7) % 65_521
    return total


def audit_log() -> int:
    total = 0
    for i in range(8_000):
        total = (total ^ (i * 13)) & 0xFFFFF
    return total


def encode_reply(parts: dict) -> bytes:
    pad = sum(i % 7 for i in range(6_000))
    return json.dumps({**parts, "pad": pad}).encode()


def handle() -> bytes:
    parts = {"report": render_report(), "cart": price_cart(), "stock": check_stock(),
             "audit": audit_log()}
    return encode_reply(parts)


class Shop(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport
        self.buf = b""

    def data_received(self, data):
        self.buf += data
        while b"\r\n\r\n" in self.buf:
            _, self.buf = self.buf.split(b"\r\n\r\n", 1)
            body = handle()
            self.t.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         b"Content-Length: %d\r\n\r\n%s" % (len(body), body))


async def main(port: int) -> None:
    server = await asyncio.get_running_loop().create_server(Shop, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(os.environ.get("PORT", "8000"))))
