"""An orderly close: a node that stops closes its peer connections with a
TLS close_notify; the other side says so at notice level and counts no
error (issue 13, PROTOCOL.md §4). Real jalind processes; nothing timed.
"""

from fed import federation, peer_status, wait_live


def test_a_stopping_peer_is_not_an_error(make_node):
    nodes = federation(make_node, {"jabar": 32, "banten": 36},
                       [("banten", "jabar")])
    j, b = nodes["jabar"], nodes["banten"]
    wait_live(j, "banten")
    before = peer_status(j, "banten")
    b.stop()
    j.wait_log("peer banten: closed by peer")
    j.wait_log("peer banten: down")
    after = peer_status(j, "banten")
    assert after["state"] == "down"
    assert after["errors"] == before["errors"]
    assert after["failed_attempts"] == before["failed_attempts"]
    # status says why it is down, in words, but not as a fault
    assert after["last_error"] == "closed by peer (it stopped)", after
    assert "connection lost" not in j.log()
    # and it comes back as before
    b.start()
    wait_live(j, "banten")
