"""Threads blocked on every kind of leaf for ~0.6 s, then exit: 3 waiting for a
threading.Lock one holds (in time.sleep), one in a socket read from a local server,
one in Queue.get."""

import queue
import socket
import threading
import time

HOLD = 0.6
LOCK = threading.Lock()


def hold():
    with LOCK:
        time.sleep(HOLD)


def wait_for_lock():
    with LOCK:
        pass


def read_upstream(port):
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(HOLD * 2)
        try:
            s.recv(10)  # the server never answers
        except OSError:
            pass


def take(q):
    try:
        q.get(timeout=HOLD)
    except queue.Empty:
        pass


server = socket.socket()
server.bind(("127.0.0.1", 0))
server.listen()
port = server.getsockname()[1]
threads = [threading.Thread(target=hold)]
threads[0].start()
time.sleep(0.05)
threads += [threading.Thread(target=wait_for_lock) for _ in range(3)]
threads += [threading.Thread(target=read_upstream, args=(port,)),
            threading.Thread(target=take, args=(queue.Queue(),))]
for t in threads[1:]:
    t.start()
conn, _ = server.accept()
for t in threads:
    t.join()
conn.close()
