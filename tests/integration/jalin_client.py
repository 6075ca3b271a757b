"""An independent jalin/1 client, written from protocol/PROTOCOL.md alone.

It uses only Python's ssl module and Debian's python3-msgpack: nothing from
the C code base. The tests use it to prove that the specification is enough
to talk to a node (HELLO, subscribe, receive and decode the feed), and to
play a misbehaving peer (oversized frames, msgpack bombs, random bytes,
messages out of order).
"""

import os
import pathlib
import re
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
# protocol 4 (PROTOCOL.md section 13): certificates and signed batches
CERT, BATCH = 16, 17
K_ORIGIN, K_BNO, K_KID, K_SIG, K_LEAVES, K_CERT = 57, 58, 59, 60, 61, 62

COLLECTIONS = {1: "case", 2: "partnership", 3: "lks", 4: "resource",
               5: "referral"}


class ProtocolError(Exception):
    pass


# Coded strings (PROTOCOL.md 8.1): the 256 code lengths are read from the
# document itself, and the canonical codes assigned from them as it says.
def _code_lengths():
    doc = (pathlib.Path(__file__).resolve().parents[2] / "protocol" /
           "PROTOCOL.md").read_text()
    sec = doc[doc.index("### 8.1"):doc.index("## 9.")]
    lengths = [int(x) for x in
               re.search(r"```\n([0-9 \n]+?)\n```", sec).group(1).split()]
    if len(lengths) != 256:
        raise ProtocolError("PROTOCOL.md 8.1: expected 256 code lengths")
    return lengths


CODE_LEN = _code_lengths()
CODE_MAX = max(CODE_LEN)
CODE = [0] * 256
_next = 0
for _len in range(1, CODE_MAX + 1):
    for _b in range(256):
        if CODE_LEN[_b] == _len:
            CODE[_b] = _next
            _next += 1
    _next <<= 1
# next CODE_MAX bits -> (byte, length)
DECODE = [None] * (1 << CODE_MAX)
for _b in range(256):
    _lo = CODE[_b] << (CODE_MAX - CODE_LEN[_b])
    for _j in range(1 << (CODE_MAX - CODE_LEN[_b])):
        DECODE[_lo + _j] = (_b, CODE_LEN[_b])
CODED_EXT, CODED_MIN = 1, 8


def _str_item_len(n):
    return n + (1 if n < 32 else 2 if n < 256 else 3 if n < 65536 else 5)


def _ext_item_len(d):
    if d in (1, 2, 4, 8, 16):
        return d + 2
    return d + (3 if d < 256 else 4 if d < 65536 else 6)


def encode_value(value):
    """A field value as a state holds it: a str coded if that is shorter."""
    if not isinstance(value, str):
        return value
    raw = value.encode()
    if len(raw) < CODED_MIN:
        return value
    data, acc, have = bytearray(), 0, 0
    for b in raw:
        acc = (acc << CODE_LEN[b]) | CODE[b]
        have += CODE_LEN[b]
        while have >= 8:
            have -= 8
            data.append((acc >> have) & 0xFF)
        acc &= (1 << have) - 1
    if have:  # padded with one bits
        data.append(((acc << (8 - have)) | ((1 << (8 - have)) - 1)) & 0xFF)
    data = bytes(data)
    if _ext_item_len(len(data)) >= _str_item_len(len(raw)):
        return value
    return msgpack.ExtType(CODED_EXT, data)


def decode_value(value):
    """The text of a coded string (other values as they are)."""
    if not isinstance(value, msgpack.ExtType):
        return value
    if value.code != CODED_EXT:
        raise ProtocolError("ext type %d in a record state" % value.code)
    data = value.data
    total = len(data) * 8
    out, pos, mask = bytearray(), 0, (1 << CODE_MAX) - 1
    acc, have, nxt = 0, 0, 0  # `have` bits of acc are the next bits
    while pos < total:
        while have < CODE_MAX and nxt < len(data):
            acc = ((acc << 8) | data[nxt]) & ((1 << 64) - 1)
            have += 8
            nxt += 1
        rem = total - pos
        if have >= CODE_MAX:
            w = (acc >> (have - CODE_MAX)) & mask
        else:  # near the end: what follows reads as ones
            w = ((acc << (CODE_MAX - have)) |
                 ((1 << (CODE_MAX - have)) - 1)) & mask
        byte, length = DECODE[w]
        if length > rem:  # the padding: fewer than 8 one bits
            if rem > 7 or acc & ((1 << rem) - 1) != (1 << rem) - 1:
                raise ProtocolError("coded string: bad padding")
            break
        out.append(byte)
        pos += length
        have -= length
    text = out.decode()
    if encode_value(text) != value:
        raise ProtocolError("coded string not in its canonical form")
    return text


def tls_context(ca, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(ca)
    ctx.load_cert_chain(cert, key)
    ctx.set_alpn_protocols(["jalin/1"])
    return ctx


# The DER of the X25519 algorithm identifier (OID 1.3.101.110) in a
# SubjectPublicKeyInfo: a CERT holding it carries an encryption key
# (PROTOCOL.md 13.3.1), any other a signing one.
X25519_OID_DER = bytes.fromhex("06032b656e")


def is_enc_cert(der):
    """True if the DER certificate's key is X25519 (a crude but sufficient
    test: that OID appears nowhere in an ECDSA node certificate)."""
    return X25519_OID_DER in der


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
        # protocol 4: what the node sent with its records
        self.certs, self.batches, self.proofs = [], {}, {}
        # section 13.3.1: encryption certificates (X25519 keys)
        self.enc_certs = []

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
    def hello(self, versions=(3, 3)):
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
            if t == CERT and is_enc_cert(m[K_CERT]):
                self.enc_certs.append(m[K_CERT])
            elif t == CERT:
                self.certs.append(m[K_CERT])
            elif t == BATCH:
                self.batches[(m[K_ORIGIN], m[K_BNO])] = m
            elif t == CHANGES:
                for item in m[K_RECS]:
                    seq, coll, rid, state = item[:4]
                    if len(item) > 4:  # protocol 4: [..., proof]
                        self.proofs[rid] = item[4]
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


def make_state(writes, ctx=None, purged=False):
    """A record state (PROTOCOL.md 8) as a node would hold it after these
    write events: writes is a list of (origin, hlc, {tag: value}), one per
    dot; ctx ({origin: hlc}, optional) raises an origin's context above its
    writes. str values are put in their state form (8.1); None is nil."""
    ctx = dict(ctx or {})
    for origin, hlc, _ in writes:
        ctx[origin] = max(ctx.get(origin, 0), hlc)
    # origins in memcmp order, the shorter first: Python's bytes order
    origins = sorted(ctx, key=lambda o: o.encode())
    oidx = {o: i for i, o in enumerate(origins)}
    dots = sorted({(oidx[o], h) for o, h, _ in writes})
    didx = {d: i for i, d in enumerate(dots)}
    entries = []
    for origin, hlc, fields in writes:
        d = didx[(oidx[origin], hlc)]
        for tag, value in fields.items():
            entries.append((tag * len(dots) + d, encode_value(value)))
    entries.sort(key=lambda e: e[0])
    flat_dots = [x for o, h in dots for x in (o, ctx[origins[o]] - h)]
    flat_entries = [x for e in entries for x in e]
    return [3, 1 if purged else 0, origins, [ctx[o] for o in origins],
            flat_dots, flat_entries]


def record_fields(state):
    """The current value of each field of a decoded record state
    (PROTOCOL.md, "Record state"): {tag: value}, winners only."""
    fmt, flags, origins, ctx, dots, entries = state
    if fmt != 3:
        raise ProtocolError("unknown record format %r" % fmt)
    # a dot is (origin index, distance back from that origin's context)
    dot = [(origins[dots[i]], ctx[dots[i]] - dots[i + 1])
           for i in range(0, len(dots), 2)]
    best = {}
    for i in range(0, len(entries), 2):
        # an entry is (tag * number of dots + dot index, value)
        tag, d = divmod(entries[i], len(dot))
        value = decode_value(entries[i + 1])
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


# -- origin signatures (PROTOCOL.md section 13) ---------------------------

SIG_INLINE_MAX = 48


def sig_element(tag, value):
    """The element of a field value (its state-form msgpack bytes)."""
    import hashlib
    if len(value) <= SIG_INLINE_MAX:
        return struct.pack(">HB", tag, len(value)) + value
    return struct.pack(">HB", tag, 255) + hashlib.sha256(value).digest()[:16]


def sig_leaf(coll, rid, origin, hlc, kind, elements):
    """The 16-byte leaf of a write event: elements sorted by tag."""
    import hashlib
    o = origin.encode()
    h = hashlib.sha256(b"jalin-ev1" + bytes([coll]) + rid + bytes([len(o)])
                       + o + struct.pack(">QBH", hlc, kind, len(elements)))
    for e in sorted(elements, key=lambda e: struct.unpack(">H", e[:2])[0]):
        h.update(e)
    return h.digest()[:16]


def sig_batch_digest(origin, bno, kid, leaves):
    """What an origin signs for a batch of leaves (bytes, 16 each)."""
    import hashlib
    o = origin.encode()
    return hashlib.sha256(b"jalin-batch1" + bytes([len(o)]) + o +
                          struct.pack(">Q", bno) + kid +
                          struct.pack(">H", len(leaves) // 16) +
                          leaves).digest()


def split_elements(blob):
    """The elements in a proof's missing/elements bin."""
    out, i = [], 0
    while i < len(blob):
        n = 3 + (16 if blob[i + 2] == 255 else blob[i + 2])
        out.append(blob[i:i + n])
        i += n
    return out


def state_entries(state):
    """A record state's parts with each entry value's raw bytes:
    (flags, origins, ctx, dots [(origin index, hlc)],
    entries [(tag, dot index, value bytes)])."""
    u = msgpack.Unpacker(raw=False, strict_map_key=False)
    u.feed(state)
    if u.read_array_header() != 6 or u.unpack() != 3:
        raise ProtocolError("not a format-3 state")
    flags, origins, ctx, d = u.unpack(), u.unpack(), u.unpack(), u.unpack()
    dots = [(d[i], ctx[d[i]] - d[i + 1]) for i in range(0, len(d), 2)]
    entries = []
    for _ in range(u.read_array_header() // 2):
        key = u.unpack()
        a = u.tell()
        u.skip()
        tag, di = divmod(key, len(dots))
        entries.append((tag, di, state[a:u.tell()]))
    return flags, origins, ctx, dots, entries


# -- sealed fields (PROTOCOL.md section 14) ------------------------------
# An opener of sealed values written from the section alone: the keys
# field (ext 3) and sealed values (ext 2), X25519 + HKDF-SHA256 + AES-256-GCM
# (python3-cryptography, imported only here).

SEALED_EXT, KEYS_EXT = 2, 3


def ext_body(raw):
    """(type, body) of a msgpack ext item, or (None, None)."""
    try:
        v = msgpack.unpackb(raw, raw=True)
    except Exception:
        return None, None
    if isinstance(v, msgpack.ExtType):
        return v.code, v.data
    return None, None


def _gcm_open(key, nonce, ct_tag, ad):
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    return AESGCM(key).decrypt(nonce, ct_tag, ad)


def seal_open_keys(coll, rid, body, name, priv):
    """The data keys {kid: key} that node `name` (X25519 private key priv)
    opens from one keys body; {} when it has no wrap in it. Raises on a
    wrap or chain that does not check."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric.x25519 import \
        X25519PublicKey
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    if body[0] != 1:
        raise ProtocolError("keys: unknown version")
    kid, eph, n = body[1:9], body[9:41], body[41]
    i, wrap = 42, None
    for _ in range(n):
        ln = body[i]
        nm = body[i + 1:i + 1 + ln].decode()
        w = body[i + 1 + ln:i + 1 + ln + 48]
        i += 1 + ln + 48
        if nm == name:
            wrap = w
    m = body[i]
    if wrap is None:
        return {}
    raw = serialization.Encoding.Raw
    mine = priv.public_key().public_bytes(raw, serialization.PublicFormat.Raw)
    secret = priv.exchange(X25519PublicKey.from_public_bytes(eph))
    info = b"jalin wrap 1" + bytes([coll]) + rid + kid + name.encode()
    kek = HKDF(algorithm=hashes.SHA256(), length=32, salt=eph + mine,
               info=info).derive(secret)
    dk = _gcm_open(kek, bytes(12), wrap, None)
    keys = {kid: dk}
    if m:
        nonce = body[i + 1:i + 13]
        ct = body[i + 13:i + 13 + 40 * m + 16]
        ad = b"jalin chain 1" + bytes([coll]) + rid + b"\x01" + kid + \
            bytes([m])
        chain = _gcm_open(dk, nonce, ct, ad)
        for k in range(m):
            keys[chain[40 * k:40 * k + 8]] = chain[40 * k + 8:40 * k + 40]
    return keys


def seal_open_value(coll, rid, tag, body, keys):
    """The plaintext (a decoded msgpack value) of a sealed body, or None
    when none of keys {kid: key} is its key. Raises when it does not
    check."""
    if body[0] != 1:
        raise ProtocolError("sealed value: unknown version")
    kid, nonce = body[1:9], body[9:21]
    if kid not in keys:
        return None
    ad = b"jalin seal 1" + bytes([coll]) + rid + tag.to_bytes(2, "big") + \
        body[0:9]
    # the plaintext is the value's state form: a string may be coded
    return decode_value(msgpack.unpackb(
        _gcm_open(keys[kid], nonce, body[21:], ad), raw=False))
