#!/usr/bin/python3
"""Write the seed corpus of fuzz_seal (tests/fuzz/corpus/seal/): sealed
value bodies and keys bodies under the harness's fixed keys, built from the
layouts of protocol/seal.h (PROTOCOL.md §14) with Python's cryptography,
not with seal.c, so the corpus is also a check that the two agree (run the
harness with FUZZ_SEAL_SHOW=1 on it: the value seeds print 0, the keys
seeds jabar is in print 0). Run again after changing the layouts:

    /usr/bin/python3 tests/fuzz/mkseed_seal.py tests/fuzz/corpus/seal
"""
import os
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey, X25519PublicKey)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# fuzz_seal.c's fixed inputs
COLL, TAG = 2, 21
ID = bytes(range(0xa0, 0xb0))
PRIV = b"Jabar fuzz key 0123456789abcdefg"
K1 = (b"fuzzkid1", bytes(range(1, 33)))
K2 = (b"fuzzkid2", bytes(range(33, 65)))
RAW = serialization.Encoding.Raw
PUBRAW = serialization.PublicFormat.Raw


def value(key, plain, tag=TAG):
    """[1 version][8 kid][12 nonce][ciphertext][16 tag]"""
    kid, dk = key
    nonce = os.urandom(12)
    head = bytes([1]) + kid
    ad = b"jalin seal 1" + bytes([COLL]) + ID + tag.to_bytes(2, "big") + head
    return head + nonce + AESGCM(dk).encrypt(nonce, plain, ad)


def pub(k):
    return k.public_key().public_bytes(RAW, PUBRAW)


def keys(cur, recipients, older=()):
    """recipients: [(name, X25519PublicKey)], sorted here."""
    kid, dk = cur
    eph = X25519PrivateKey.generate()
    epub = pub(eph)
    body = bytes([1]) + kid + epub + bytes([len(recipients)])
    for name, rpub in sorted(recipients):
        s = eph.exchange(rpub)
        info = b"jalin wrap 1" + bytes([COLL]) + ID + kid + name
        salt = epub + rpub.public_bytes(RAW, PUBRAW)
        kek = HKDF(hashes.SHA256(), 32, salt, info).derive(s)
        body += bytes([len(name)]) + name
        body += AESGCM(kek).encrypt(bytes(12), dk, None)
    body += bytes([len(older)])
    if older:
        nonce = os.urandom(12)
        ad = (b"jalin chain 1" + bytes([COLL]) + ID + bytes([1]) + kid +
              bytes([len(older)]))
        plain = b"".join(k + d for k, d in older)
        body += nonce + AESGCM(dk).encrypt(nonce, plain, ad)
    return body


def main(out):
    os.makedirs(out, exist_ok=True)
    jabar = X25519PrivateKey.from_private_bytes(PRIV).public_key()
    banten = X25519PrivateKey.generate().public_key()
    sulsel = X25519PrivateKey.generate().public_key()
    big = b"\xda\x04\x00" + bytes(ord("a") + i % 26 for i in range(1024))
    seeds = {
        "value-str": value(K1, b"\xb03273011203850001"),
        "value-list": value(K2, b"\x92\xa5asma \xa3TBC"),
        "value-map": value(K1, b"\x82\xa1a\x01\xa1b\xa1x"),
        "value-1k": value(K2, big),
        "value-other-tag": value(K1, b"\x2a", TAG + 1),
        "keys-one": keys(K1, [(b"jabar", jabar)]),
        "keys-chain": keys(K2, [(b"banten", banten), (b"jabar", jabar),
                                (b"sulsel", sulsel)], [K1]),
        "keys-not-recipient": keys(K2, [(b"banten", banten),
                                        (b"sulsel", sulsel)], [K1]),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fuzz/corpus/seal")
