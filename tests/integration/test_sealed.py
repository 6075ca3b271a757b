"""Sealed fields end to end (issue 14, PROTOCOL.md section 14): the
personal fields of a case are sealed by the office that writes them and
readable only by its readers (origin, share_with, all_cases nodes).

A chain jabar -- pusat -- sulsel where pusat is a relay ([node] relay):
it holds and passes on the case without being a reader. Checked from the
outside too: the stores are read with mdb_dump and opened with the
independent client's opener (jalin_client.py, from PROTOCOL.md alone) and
each node's encryption key.

No timing assertions.
"""

import json
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization

from conftest import case_record, ctl
from fed import federation, get, put, wait_live, wait_until
from jalin_client import (KEYS_EXT, SEALED_EXT, ext_body, seal_open_keys,
                          seal_open_value, state_entries)
from test_signing import dump, value_parts

COLL_CASE = 1
NIK = "3271998877665544"
NAME = "Sutarmi Wulandari Prasetyaningsih"
DIAG = "skizofrenia paranoid kronis episode berulang"
NOTE = "dipasung di kandang belakang rumah sejak musim hujan 2019"
NOTE2 = "catatan sesudah penarikan: keluarga pindah ke Kabupaten Maros"
SECRETS = [NIK, NAME, DIAG, NOTE]


def enc_key(ca, name):
    path = ca.path / "nodes" / f"{name}.enc.key"
    return serialization.load_pem_private_key(path.read_bytes(), None)


def chain(make_node):
    """jabar -- pusat (relay) -- sulsel."""
    return federation(
        make_node, {"jabar": 32, "pusat": 31, "sulsel": 73},
        [("jabar", "pusat"), ("sulsel", "pusat")],
        node_keys={"pusat": {"relay": "yes"}},
        peer_keys={("jabar", "pusat"): {"relay": "yes"},
                   ("sulsel", "pusat"): {"relay": "yes"}})


def shared_case(make_node, **over):
    """The chain live, and a case of jabar's that sulsel holds: (jabar,
    pusat, sulsel, its id)."""
    nodes = chain(make_node)
    j, p, s = nodes["jabar"], nodes["pusat"], nodes["sulsel"]
    wait_live(p, "jabar", "sulsel")
    rid = put(j, "case", the_case(**over))
    if "share_with" not in over:
        wait_until("sulsel to hold the case",
                   lambda: get(s, "case", rid, check=False))
    return j, p, s, rid


def the_case(**over):
    rec = case_record(1, full_name=NAME, nik=NIK, diagnosis=DIAG, notes=NOTE,
                      share_with=["sulsel"])
    rec.update(over)
    return rec


def stored_case(node, rid):
    """(entries, state) of the case as stored, read with mdb_dump (the
    node is stopped)."""
    recs = dump(node.data_dir, "records")
    key = bytes([COLL_CASE]) + bytes.fromhex(rid.replace("-", ""))
    _, state = value_parts(recs[key])
    return state_entries(state)[4], state


def open_all(entries, rid, name, priv):
    """{tag: plaintext or None} of every sealed entry, opened as node name
    with the independent opener."""
    rid = bytes.fromhex(rid.replace("-", ""))
    keys = {}
    for tag, _, raw in entries:
        t, body = ext_body(raw)
        if t == KEYS_EXT:
            keys.update(seal_open_keys(COLL_CASE, rid, body, name, priv))
    out = {}
    for tag, _, raw in entries:
        t, body = ext_body(raw)
        if t == SEALED_EXT:
            out[tag] = seal_open_value(COLL_CASE, rid, tag, body, keys)
    return out


def test_relay_holds_only_ciphertext(make_node, ca):
    nodes = chain(make_node)
    j, p, s = nodes["jabar"], nodes["pusat"], nodes["sulsel"]
    wait_live(p, "jabar", "sulsel")
    rid = put(j, "case", the_case())
    # the reader at the far end reads every field as written
    got = wait_until("sulsel to hold the case",
                     lambda: get(s, "case", rid, check=False))
    for field, want in (("nik", NIK), ("full_name", NAME),
                        ("diagnosis", DIAG), ("notes", NOTE)):
        assert got[field] == want
    assert "keys" not in got
    # the relay holds it and cannot read it
    held = get(p, "case", rid)
    for field in ("nik", "full_name", "diagnosis", "notes", "status"):
        assert held[field] == "(encrypted)", field
    assert held["share_with"] == ["sulsel"]  # class N: in clear
    export = p.ctl("export").stdout
    for secret in SECRETS:
        assert secret not in export
    p.stop()
    raw = (p.data_dir / "data.mdb").read_bytes()
    dumped = subprocess.run(["mdb_dump", "-a", "-p", str(p.data_dir)],
                            capture_output=True, text=True,
                            check=True).stdout
    log = p.log()
    for secret in SECRETS:
        assert secret.encode() not in raw
        assert secret not in dumped
        assert secret not in log
    # jalinctl --db on the stopped relay: still nothing in clear
    offline = json.loads(ctl("--db", p.data_dir, "--json", "get", "case",
                             rid, check=True).stdout)
    assert offline["nik"] == "(encrypted)"
    # from outside: the relay's copy holds no wrap for the relay; the
    # readers' keys open every sealed value, byte for byte what was written
    entries, _ = stored_case(p, rid)
    assert open_all(entries, rid, "pusat", enc_key(ca, "pusat")) and all(
        v is None for v in open_all(entries, rid, "pusat",
                                    enc_key(ca, "pusat")).values())
    opened = open_all(entries, rid, "sulsel", enc_key(ca, "sulsel"))
    assert NIK in opened.values() and NOTE in opened.values()
    assert NAME in opened.values() and DIAG in opened.values()


def test_withdrawn_reader_cannot_open_later_writes(make_node, ca):
    j, p, s, rid = shared_case(make_node)
    # sulsel is taken out; a note written afterwards
    put(j, "case", {"share_with": []}, rid)
    wait_until("sulsel to erase its copy",
               lambda: get(s, "case", rid, check=False) is None)
    put(j, "case", {"notes": NOTE2}, rid)
    wait_until("the relay to hold the new note",
               lambda: p.ctl_json("digest")["case"] ==
               j.ctl_json("digest")["case"])
    assert get(j, "case", rid)["notes"] == NOTE2
    p.stop()
    # a copy of the relay's store in sulsel's hands: sulsel's key opens
    # nothing written after it was taken out
    entries, _ = stored_case(p, rid)
    as_sulsel = open_all(entries, rid, "sulsel", enc_key(ca, "sulsel"))
    assert NOTE2 not in as_sulsel.values()
    assert all(v is None for v in as_sulsel.values())
    as_jabar = open_all(entries, rid, "jabar", enc_key(ca, "jabar"))
    assert NOTE2 in as_jabar.values() and NIK in as_jabar.values()


def test_purge_shreds(make_node, ca):
    j, p, s, rid = shared_case(make_node)
    wait_until("the relay to hold the case",
               lambda: get(p, "case", rid, check=False))
    # a backup of the relay taken before the purge
    p.stop()
    backup, _ = stored_case(p, rid)
    p.start()
    j.ctl("purge", "case", rid, "--reason", "erasure_request")
    wait_until("the purge to reach sulsel",
               lambda: get(s, "case", rid, check=False) is None)
    # the backup holds ciphertext, and wraps for the readers only: the
    # relay's own key opens nothing in it, a reader's key (sulsel's) opens
    # it all -- and the purge takes the readers' keys values away
    assert all(v is None for v in open_all(backup, rid, "pusat",
                                           enc_key(ca, "pusat")).values())
    assert NIK in open_all(backup, rid, "sulsel",
                           enc_key(ca, "sulsel")).values()
    for secret in SECRETS:
        assert all(secret.encode() not in raw for _, _, raw in backup)
    j.stop()  # the origin keeps the purge marker: no value, no keys
    entries, _ = stored_case(j, rid)
    assert not any(ext_body(raw)[0] in (KEYS_EXT, SEALED_EXT)
                   for _, _, raw in entries)


def test_widening_share_with_gives_no_key(make_node, ca):
    """The hostile office of issue 13: sulsel adds itself to share_with of
    a case it was never given. Write authority refuses the write, and no
    wrap for it ever appears."""
    j, p, s, rid = shared_case(make_node, share_with=[])
    wait_until("the relay to hold the case",
               lambda: get(p, "case", rid, check=False))
    # sulsel cannot even write it locally: it is not the origin
    r = s.ctl("put", "case", rid, input=json.dumps(
        {"share_with": ["sulsel"]}), check=False)
    assert r.returncode != 0
    p.stop()
    entries, _ = stored_case(p, rid)
    assert all(v is None for v in open_all(entries, rid, "sulsel",
                                           enc_key(ca, "sulsel")).values())


@pytest.mark.parametrize("field", ["nik", "notes"])
def test_reader_edits_stay_sealed(make_node, ca, field):
    j, p, s, rid = shared_case(make_node)
    value = "3201000011112222" if field == "nik" else \
        "kunjungan rumah oleh pekerja sosial Sulawesi Selatan"
    put(s, "case", {field: value}, rid)
    wait_until("jabar to read sulsel's edit",
               lambda: get(j, "case", rid)[field] == value)
    assert get(p, "case", rid, check=False) is None or \
        get(p, "case", rid)[field] == "(encrypted)"
    p.stop()
    assert value.encode() not in (p.data_dir / "data.mdb").read_bytes()
