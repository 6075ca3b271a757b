"""A weak link of our own between two jalind processes on 127.0.0.1.

The kernel on these machines has no netem, so tests put this TCP proxy
between a node and the peer it dials. Each direction is a bottleneck of
`rate` bytes/s with a one-way `delay` and a small router buffer: a byte
is read from the sender only when the buffer has room, leaves the buffer
at the link's rate, and reaches the other end `delay` seconds later, so
the sender's TCP sees the back-pressure of a real slow link instead of a
proxy that swallows megabytes. `reset_after` resets (RST) a connection
once that many bytes crossed it, both directions counted, as a VSAT link
that drops does; the node dials again and the next connection gets the
same budget.

Counters (bytes each way, connections, resets) let a test compare what
crossed with what had to cross. Nothing here measures jalin's speed.
"""

import collections
import socket
import struct
import threading
import time

CHUNK = 1024  # bytes read at a time: the link's granularity
SOCKBUF = 8192  # kernel buffer of each proxy socket (Linux doubles it)


class _Direction:
    """One direction of one connection: src -> (buffer, rate, delay)
    -> dst."""

    def __init__(self, link, conn, src, dst, name):
        self.link, self.conn = link, conn
        self.src, self.dst, self.name = src, dst, name
        self.queue = collections.deque()  # (deliver_at, bytes)
        self.queued = 0
        self.free_at = 0.0  # when the link finishes sending what it has
        self.cv = threading.Condition()
        self.eof = False

    def reader(self):
        try:
            while not self.conn.dead:
                with self.cv:
                    while (self.queued >= self.link.buffer and
                           not self.conn.dead):
                        self.cv.wait(0.1)
                if self.conn.dead:
                    return
                data = self.src.recv(CHUNK)
                if not data:
                    break
                now = time.monotonic()
                with self.cv:
                    rate = self.link.rate
                    start = max(now, self.free_at)
                    self.free_at = start + (len(data) / rate if rate else 0)
                    self.queue.append((self.free_at + self.link.delay, data))
                    self.queued += len(data)
                    self.cv.notify_all()
        except OSError:
            pass
        with self.cv:
            self.eof = True
            self.cv.notify_all()

    def writer(self):
        try:
            while True:
                with self.cv:
                    while not self.queue and not self.eof and \
                            not self.conn.dead:
                        self.cv.wait(0.1)
                    if self.conn.dead or (not self.queue and self.eof):
                        break
                    at, data = self.queue[0]
                wait = at - time.monotonic()
                if wait > 0:
                    time.sleep(min(wait, 0.05))
                    continue
                with self.cv:
                    self.queue.popleft()
                    self.queued -= len(data)
                    self.cv.notify_all()
                if not self.conn.count(self.name, data):
                    return
                self.dst.sendall(data)
        except OSError:
            pass
        # The sender closed (or the link died): pass the close on.
        try:
            self.dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class _Conn:
    def __init__(self, link, down, up):
        self.link, self.down, self.up = link, down, up
        self.dead = False
        self.crossed = 0
        self.lock = threading.Lock()

    def count(self, name, data):
        """Count data crossing; False (and the connection reset) once
        the reset budget is spent."""
        with self.lock:
            if self.dead:
                return False
            budget = self.link.reset_after
            n = len(data)
            if budget is not None and self.crossed + n > budget:
                self.reset()
                return False
            self.crossed += n
        self.link.add(name, n)
        return True

    def reset(self):
        """Both ends get a RST, as when a satellite link drops."""
        self.dead = True
        self.link.add("resets", 1)
        for s in (self.down, self.up):
            try:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
                # wake the reader blocked in recv() first: until it
                # returns, close() only drops Python's reference and the
                # RST waits for the node's next byte (a ping, 10 s later)
                s.shutdown(socket.SHUT_RD)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass

    def close(self):
        self.dead = True
        for s in (self.down, self.up):
            try:
                s.close()
            except OSError:
                pass


class SlowLink:
    """Listen on 127.0.0.1:port and forward each connection to
    127.0.0.1:target through a slow, delaying, resetting link.

    rate: bytes/s each way (0: unlimited); delay: one-way seconds;
    reset_after: bytes per connection before a RST (None: never);
    buffer: bytes the link holds before the sender is held back.
    """

    def __init__(self, target, rate=0, delay=0.0, reset_after=None,
                 buffer=16384):
        self.target = target
        self.rate, self.delay = rate, delay
        self.reset_after, self.buffer = reset_after, buffer
        self.counters = collections.Counter()
        self.lock = threading.Lock()
        self.conns = []
        self.stopped = threading.Event()
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Small kernel buffers on our side: loopback's would let the
        # sender's TCP hand over megabytes the link has not carried.
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKBUF)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(16)
        self.srv.settimeout(0.2)
        self.port = self.srv.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def add(self, name, n):
        with self.lock:
            self.counters[name] += n

    def stats(self):
        with self.lock:
            return dict(self.counters)

    def _serve(self):
        while not self.stopped.is_set():
            try:
                down, _ = self.srv.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                up = socket.socket()
                up.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKBUF)
                up.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKBUF)
                up.settimeout(5)
                up.connect(("127.0.0.1", self.target))
                down.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKBUF)
            except OSError:
                up.close()
                down.close()
                continue
            for s in (down, up):
                s.settimeout(None)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.add("connections", 1)
            c = _Conn(self, down, up)
            with self.lock:
                self.conns.append(c)
            for d in (_Direction(self, c, down, up, "bytes_up"),
                      _Direction(self, c, up, down, "bytes_down")):
                threading.Thread(target=d.reader, daemon=True).start()
                threading.Thread(target=d.writer, daemon=True).start()

    def stop(self):
        self.stopped.set()
        self.srv.close()
        with self.lock:
            conns = list(self.conns)
        for c in conns:
            c.close()
        self.thread.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
