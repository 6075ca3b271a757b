"""Faults: a receiver killed in the middle of an initial sync, a node
restored from an older copy of its data directory, a sender that dies
mid-batch. Nothing is lost, nothing applied twice in effect, the other
side keeps serving."""

import random
import shutil

from conftest import ctl, jsonl, lks_record
from fed import (federation, peer_state, peer_status, put, status,
                 wait_converged, wait_until)

N_SYNC = 100_000


def small_lks(n, seed):
    rng = random.Random(seed)
    return jsonl({"collection": "lks", "name": f"LKS Sejahtera {i:06d}",
                  "legal_form": "yayasan", "status": "active",
                  "region_code": rng.choice(["32.73", "36.71", "73.71"])}
                 for i in range(n))


def test_receiver_killed_mid_initial_sync(make_node):
    nodes = federation(make_node, {"jabar": 32, "banten": 36},
                       [("banten", "jabar")], start=False)
    j, b = nodes["jabar"], nodes["banten"]
    j.start()
    j.ctl("import", "-", input=small_lks(N_SYNC, 1))
    b.start()
    wait_until("the first batches at banten",
               lambda: status(b)["records"]["lks"] > 0, interval=0.01)
    b.kill()
    # what banten had committed when it died, read from its store
    at_kill = ctl("--db", b.data_dir, "--json", "status", check=True)
    b.start()
    wait_converged([j, b])
    st = status(b)
    assert st["records"]["lks"] == N_SYNC
    # every record went into banten's feed once: a batch resent after the
    # crash changed nothing
    assert st["seq"] == N_SYNC
    assert '"lks"' in at_kill.stdout
    ctl("--db", b.data_dir, "status", check=True)  # the store opens clean


def test_restored_node_is_detected_and_resynced(make_node, tmp_path):
    nodes = federation(make_node, {"jabar": 32, "banten": 36},
                       [("banten", "jabar")])
    j, b = nodes["jabar"], nodes["banten"]
    j.ctl("import", "-", input=small_lks(100, 2))
    wait_converged([j, b])
    b.stop()
    backup = tmp_path / "banten-backup"
    shutil.copytree(b.data_dir, backup)
    b.start()
    b.ctl("import", "-", input=small_lks(50, 3).replace(
        "LKS Sejahtera", "LKS Banten Peduli"))
    wait_converged([j, b])
    epoch = status(b)["epoch"]
    b.stop()
    shutil.rmtree(b.data_dir)
    shutil.copytree(backup, b.data_dir)
    b.start()
    # jabar holds a checkpoint beyond banten's restored feed: banten sees
    # that it was restored, draws a new epoch, and both sides resync; the
    # 50 records banten lost come back from jabar
    wait_converged([j, b])
    assert status(b)["records"]["lks"] == 150
    assert status(b)["epoch"] != epoch
    assert "restored from an older copy" in b.log()


def test_restored_backup_cannot_bring_a_collected_deletion_back(
        make_node, tmp_path):
    """A deleted record's tombstone is collected once every peer has it;
    a node restored from a backup made before the deletion still holds the
    record. It must not come back: the collected tombstone is kept aside
    (the gone database), the old copy merges into it without effect, and
    verification deletes the restored copy."""
    nodes = federation(make_node, {"jabar": 32, "banten": 36},
                       [("banten", "jabar")])
    j, b = nodes["jabar"], nodes["banten"]
    j.ctl("import", "-", input=small_lks(19, 7))
    name = "Yayasan Sudah Ditutup"
    rid = put(j, "lks", lks_record(8, name=name))
    wait_converged([j, b])
    b.stop()
    backup = tmp_path / "banten-backup"
    shutil.copytree(b.data_dir, backup)
    b.start()
    j.ctl("delete", "lks", rid, "--reason", "duplicate")
    wait_converged([j, b])
    for n in (j, b):
        wait_until(f"the tombstone collected at {n.name}",
                   lambda n=n: status(n)["tombstones"] == 0, timeout=60)
        gone = n.ctl("get", "lks", rid, check=False)
        assert gone.returncode == 1 and "no such record" in gone.stderr
    b.stop()
    shutil.rmtree(b.data_dir)
    shutil.copytree(backup, b.data_dir)
    b.start()
    # banten is resynced and sends jabar everything it has, the deleted
    # record too; jabar's verification then deletes banten's copy
    wait_converged([j, b])
    assert "restored from an older copy" in b.log()
    for n in (j, b):
        st = status(n)
        assert st["records"]["lks"] == 19, (n.name, st["records"])
        assert name not in export_lks(n)
        assert n.ctl("get", "lks", rid, check=False).returncode == 1


def export_lks(node):
    return node.ctl("export", "lks").stdout


def test_recreated_node_resyncs_once(make_node):
    # banten's data directory is lost and it starts empty under the same
    # name: jabar sees the new epoch in HELLO and sends it everything
    # (banten's own old records included); banten's RESYNC (jabar's
    # checkpoint is for the lost store) restarts only jabar's copy of
    # banten's feed. The two must not resync each other in turn.
    nodes = federation(make_node, {"jabar": 32, "banten": 36},
                       [("banten", "jabar")])
    j, b = nodes["jabar"], nodes["banten"]
    j.ctl("import", "-", input=small_lks(20_000, 5))
    b.ctl("import", "-", input=small_lks(300, 6).replace(
        "LKS Sejahtera", "LKS Banten Peduli"))
    wait_converged([j, b])
    b.stop()
    wait_until("jabar to see banten go",
               lambda: peer_state(j, "banten") in ("down", "connecting"))
    errors = peer_status(j, "banten")["errors"]
    shutil.rmtree(b.data_dir)
    jlog = len(j.log())
    b.start()
    wait_converged([j, b])
    assert status(b)["records"]["lks"] == 20_300
    wait_until("jabar live with banten",
               lambda: peer_state(j, "banten") == "live")
    jl, bl = j.log()[jlog:], b.log()
    for log in (jl, bl):
        assert "ACK beyond" not in log and "out of order" not in log, log
    assert jl.count("resyncing its feed") == 1, jl
    assert "sending all" not in jl + bl, jl + bl
    assert peer_status(j, "banten")["errors"] == errors


def test_sender_dies_mid_batch_receiver_keeps_serving(make_node):
    nodes = federation(make_node, {"jabar": 32, "banten": 36},
                       [("banten", "jabar")], start=False)
    j, b = nodes["jabar"], nodes["banten"]
    j.start()
    j.ctl("import", "-", input=small_lks(50_000, 4))
    b.start()
    wait_until("a few batches at banten",
               lambda: status(b)["records"]["lks"] > 0, interval=0.01)
    j.kill()
    # banten notices, says so, and serves as before
    wait_until("jabar shown down at banten",
               lambda: peer_state(b, "jabar") in ("down", "connecting"))
    assert b.ctl("status").returncode == 0
    b.ctl("put", "lks", input='{"name": "Yayasan Tetap Jalan", '
          '"legal_form": "yayasan", "status": "active"}')
    j.start()
    wait_converged([j, b])
    assert status(b)["records"]["lks"] == 50_001
