#!/usr/bin/python3
"""Write the seed corpus of fuzz_peer (tests/fuzz/corpus/peer/): sessions
of a hostile configured peer in the input format tests/fuzz/fuzz_peer.c
reads (tests/fuzz/README). Run again after changing that format:

    /usr/bin/python3 tests/fuzz/mkseed_peer.py tests/fuzz/corpus/peer
"""
import os
import sys

# pick_name: known[k % 4] for k % 8 < 6
HOSTILE, JABAR, HONEST, BANTEN = 0, 1, 2, 3
CASE, PARTNERSHIP, LKS, RESOURCE, REFERRAL = 1, 2, 3, 4, 5
SHARE_WITH = 3  # index of share_with in every collection's fields


def put(fields):
    """A put: [kind 0][n] then per field [k=1][index][value bytes]."""
    b = bytes([0, len(fields)])
    for idx, val in fields:
        b += bytes([1, idx]) + val
    return b


def share_with(*names):
    """A list value (k >> 6 names, at most 3) of known node names."""
    return bytes([0x41 + (len(names) - 1) * 0x40]) + bytes(names)


def text(s):
    """A value of any type: pack_any with a str (k % 9 == 4)."""
    s = s.encode()
    return bytes([2, 4, len(s)]) + s


def write(who, body):
    return bytes([who]) + body


def state(writes, coll_kind=2, behind_ms16=0x0100):
    """A record built by 1..4 writes, 16 * behind_ms16 ms in the past."""
    k = coll_kind | ((len(writes) - 1) << 2)
    return bytes([k, 1, behind_ms16 >> 8, behind_ms16 & 0xff]) + b"".join(writes)


def rec(coll, idn, st, kind=2):
    return bytes([kind, coll, idn - 1]) + st


def changes(recs):
    """CHANGES in the subscribed epoch from the node's position."""
    return bytes([1, 0x08, 0x00, len(recs)]) + b"".join(recs)


def repair(recs):
    return bytes([5, len(recs)]) + b"".join(recs)


LIVE = bytes([7, 3])         # LIVE in the subscribed epoch at our position
ACK = bytes([6, 1])          # ACK in jabar's epoch of what it sent us
SPLIT = bytes([0x0f])        # the next frame arrives in two parts
TICK = bytes([0x1f])         # one tick of the node's connections
NOWAIT = bytes([0x2f])       # the next frame: no waiting for the node
AGAIN = bytes([0x3f])        # hang up at once, connect again
AGAIN_DUP = bytes([0x7f])    # connect again, then hang up the old one
VERIFY = bytes([0x8e])       # jabar starts a verification of hostile
# VDIGEST of a peer holding still, with zero sums, count and bad 0
VDIGEST_ZERO = bytes([0x0b, 0x02, 0x00]) + bytes([3, 0]) * 2


def vids(items):
    """VIDS of the bucket jabar asked for: (id, coll, with hash)."""
    b = bytes([0x0b, 0x03 | (len(items) << 5)])
    for idn, coll, hashed in items:
        b += bytes([idn - 1, coll, 0 if hashed else 1])
    return b + bytes([0])
SUB = bytes([8 | 0x80])      # SUB from the start

case_shared = state([write(HOSTILE, put([(SHARE_WITH, share_with(JABAR)),
                                          (9, text("K-1"))]))])
lks_new = state([write(HOSTILE, put([(8, text("LKS Bina"))]))])
lks_two = state([write(HOSTILE, put([(8, text("A"))])),
                 write(BANTEN, put([(8, text("B"))]))])
purge_by_jabar = state([write(JABAR, bytes([7, 0x00]))])
delete_by_jabar = state([write(HOSTILE, put([(8, text("X"))])),
                         write(JABAR, bytes([6, 0x01]))])
# field 9 of partnership (agreement_no), 10 of resource (subtype): strings
partnership = state([write(HOSTILE, put([(9, text("P-1"))]))])
resource = state([write(JABAR, put([(10, text("bed"))]))])

SEEDS = {
    "hello": bytes([0]),
    "hello-outbound": bytes([1]),
    "changes-lks": bytes([0]) + changes([rec(LKS, 12, lks_new),
                                         rec(LKS, 13, lks_two)]) + LIVE,
    "changes-case": bytes([0]) + changes([rec(CASE, 14, case_shared)]) +
    LIVE + ACK,
    "changes-twice": bytes([0]) + changes([rec(LKS, 12, lks_new)]) +
    SPLIT + changes([rec(REFERRAL, 15, case_shared)]) + LIVE,
    "changes-guarded": bytes([0]) + changes([rec(PARTNERSHIP, 1, partnership),
                                             rec(RESOURCE, 3, resource)]),
    "changes-purge-lks": bytes([0]) + changes([rec(LKS, 5, purge_by_jabar)]),
    "changes-delete-lks": bytes([0]) + changes([rec(LKS, 11,
                                                    delete_by_jabar)]),
    "changes-withdraw": bytes([0]) + changes([rec(CASE, 6, b"", kind=0)]),
    "repair": bytes([0]) + repair([rec(LKS, 12, lks_new)]) + TICK,
    "sub-ack": bytes([0]) + SUB + ACK + TICK,
    "reconnect": bytes([0]) + changes([rec(LKS, 12, lks_new)]) + AGAIN +
    changes([rec(LKS, 13, lks_two)]) + LIVE,
    "reconnect-duplicate": bytes([0]) + changes([rec(LKS, 12, lks_new)]) +
    AGAIN_DUP + changes([rec(LKS, 13, lks_two)]) + LIVE,
    "verify": bytes([0]) + changes([rec(LKS, 12, lks_new)]) + LIVE + SUB + ACK +
    VERIFY + VDIGEST_ZERO + vids([(5, LKS, True), (12, LKS, False)]) +
    vids([(6, CASE, True)]),
    "hangup-while-applying": bytes([0]) + NOWAIT +
    changes([rec(LKS, 12, lks_new), rec(CASE, 14, case_shared)]) + AGAIN +
    changes([rec(LKS, 13, lks_two)]),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus/peer"
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
