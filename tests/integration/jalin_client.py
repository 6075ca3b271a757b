"""An independent jalin/1 client, written from protocol/PROTOCOL.md alone.

It uses only Python's ssl module and Debian's python3-msgpack: nothing from
the C code base. The tests use it to prove that the specification is enough
to talk to a node (HELLO, subscribe, receive and decode the feed), and to
play a misbehaving peer (oversized frames, msgpack bombs, random bytes,
messages out of order).
"""

import os
import socket
import ssl
import struct
import time

import msgpack

# Message types and keys (PROTOCOL.md, "Messages").
HELLO, ERROR, SUB, RESYNC, CHANGES, ACK, LIVE, PING, PONG = range(1, 10)
K_TYPE, K_STATUS, K_ERROR = 0, 2, 3
K_PV_MIN, K_PV_MAX, K_NAME, K_EPOCH, K_SEQ = 40, 41, 42, 43, 44
K_FEATURES, K_SCHEMA, K_TIME, K_FROM, K_UPTO, K_HEAD, K_RECS = (
    45, 46, 47, 48, 49, 50, 51)

COLLECTIONS = {1: "case", 2: "partnership", 3: "lks", 4: "resource",
               5: "referral"}


class ProtocolError(Exception):
    pass


def tls_context(ca, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(ca)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["jalin/1"])
    return ctx


class Peer:
    """One connection to a node, as the peer `name`."""

    def __init__(self, host, port, ca, cert, key, server_name, name,
                 timeout=10.0):
        self.name = name
        raw = socket.create_connection((host, port), timeout=timeout)
        self.sock = tls_context(ca, cert, key).wrap_socket(
            raw, server_hostname=server_name)
        if self.sock.selected_alpn_protocol() != "jalin/1":
            raise ProtocolError("ALPN jalin/1 not agreed")
        self.epoch = os.urandom(16)
        self.seen = []  # raw frames received, for the examples

    # -- framing ----------------------------------------------------------
    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, msg):
        body = msgpack.packb(msg, use_bin_type=True)
        self.sock.sendall(struct.pack(">I", len(body)) + body)
        return body

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("connection closed by the node")
            data += chunk
        return data

    def recv(self):
        (n,) = struct.unpack(">I", self._read(4))
        body = self._read(n)
        self.seen.append(body)
        return msgpack.unpackb(body, raw=False, strict_map_key=False)

    # -- protocol ---------------------------------------------------------
    def hello(self, versions=(2, 2)):
        self.send({K_TYPE: HELLO, K_PV_MIN: versions[0],
                   K_PV_MAX: versions[1], K_NAME: self.name,
                   K_EPOCH: self.epoch, K_SEQ: 0, K_FEATURES: 0,
                   K_SCHEMA: {}})
        m = self.recv()
        if m[K_TYPE] == ERROR:
            raise ProtocolError(m.get(K_ERROR))
        if m[K_TYPE] != HELLO:
            raise ProtocolError("expected HELLO, got %r" % m[K_TYPE])
        return m

    def subscribe(self, epoch=None, seq=None):
        msg = {K_TYPE: SUB}
        if epoch is not None:
            msg[K_EPOCH] = epoch
            msg[K_SEQ] = seq
        self.send(msg)

    def answer(self, m):
        """Answer what a node asks of any peer; False if m was handled."""
        t = m[K_TYPE]
        if t == PING:
            self.send({K_TYPE: PONG, K_TIME: m.get(K_TIME, 0)})
        elif t == SUB:
            # We have nothing to offer: our feed is empty.
            self.send({K_TYPE: LIVE, K_EPOCH: self.epoch, K_UPTO: 0})
        elif t in (PONG, ACK):
            pass
        else:
            return True
        return False

    def pull(self, timeout=30.0):
        """Subscribe from the start and read until LIVE. Returns records as
        (seq, collection, id bytes, state) with state decoded."""
        self.subscribe()
        records, deadline = [], time.time() + timeout
        while time.time() < deadline:
            m = self.recv()
            if not self.answer(m):
                continue
            t = m[K_TYPE]
            if t == ERROR:
                raise ProtocolError(m.get(K_ERROR))
            if t == CHANGES:
                for seq, coll, rid, state in m[K_RECS]:
                    records.append((seq, COLLECTIONS[coll], rid, state))
                self.send({K_TYPE: ACK, K_EPOCH: m[K_EPOCH],
                           K_UPTO: m[K_UPTO]})
            elif t == LIVE:
                return records
        raise ProtocolError("no LIVE within %s s" % timeout)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def record_fields(state):
    """The current value of each field of a decoded record state
    (PROTOCOL.md, "Record state"): {tag: value}, winners only."""
    fmt, flags, origins, ctx, dots, entries = state
    if fmt != 2:
        raise ProtocolError("unknown record format %r" % fmt)
    # a dot is (origin index, distance back from that origin's context)
    dot = [(origins[dots[i]], ctx[dots[i]] - dots[i + 1])
           for i in range(0, len(dots), 2)]
    best = {}
    for i in range(0, len(entries), 2):
        # an entry is (tag * number of dots + dot index, value)
        tag, d = divmod(entries[i], len(dot))
        value = entries[i + 1]
        if tag == 0:
            continue
        origin, hlc = dot[d]
        key = (hlc, origin)
        if tag not in best or key > best[tag][0]:
            best[tag] = (key, value)
    return {t: v for t, (k, v) in best.items() if v is not None}


def admin_request(socket_path, msg, timeout=120.0):
    """One request on a node's admin socket (PROTOCOL.md section 7);
    returns the response map."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(timeout)
        s.connect(str(socket_path))
        msg = dict(msg)
        msg.setdefault(1, 1)
        body = msgpack.packb(msg, use_bin_type=True)
        s.sendall(struct.pack(">I", len(body)) + body)
        head = b""
        while len(head) < 4:
            chunk = s.recv(4 - len(head))
            if not chunk:
                raise ConnectionError("connection closed by the node")
            head += chunk
        (n,) = struct.unpack(">I", head)
        data = b""
        while len(data) < n:
            chunk = s.recv(n - len(data))
            if not chunk:
                raise ConnectionError("connection closed by the node")
            data += chunk
        return msgpack.unpackb(data, raw=False, strict_map_key=False)


def verify(socket_path, peer):
    """The admin 'verify' request (type 44): its result map."""
    r = admin_request(socket_path, {0: 44, 27: peer})
    if r.get(2, 0) != 0:
        raise ProtocolError(r.get(3))
    return r[4]
