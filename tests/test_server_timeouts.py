"""Runaway queries cannot hurt: queries in worker processes, cut at MLG_QUERY_TIMEOUT.

A real server on loopback, with a 1 s timeout, two query workers and a row cap of 1,000.
"""

from __future__ import annotations

import json
import threading
import time

import pytest

TOKEN = "timeout-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MAX_ROWS = 1000
FILL = f"""
INSERT {{ GRAPH <http://example.org/many> {{ ?s <http://example.org/value> ?v }} }}
WHERE {{
  VALUES ?x {{ {" ".join(map(str, range(50)))} }}
  VALUES ?y {{ {" ".join(map(str, range(40)))} }}
  BIND (IRI(CONCAT("http://example.org/n/", STR(?x), "/", STR(?y))) AS ?s)
  BIND (?x * 100 + ?y AS ?v)
}}
"""
CROSS = "{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
SMALL = "ASK { <http://example.org/n/1/1> ?p ?o }"


@pytest.fixture(scope="module")
def server(serve):
    env = {
        "MLG_UPDATE_TOKEN": TOKEN,
        "MLG_QUERY_TIMEOUT": "1",
        "MLG_QUERY_WORKERS": "2",
        "MLG_MAX_ROWS": str(MAX_ROWS),
    }
    server = serve(env, args=("--threads", "8"))
    reply = server.request("POST", "/sparql", FILL, {"Content-Type": "application/sparql-update", **AUTH})
    assert reply.status == 204, reply.body
    return server


def test_a_runaway_query_is_cut_while_other_clients_get_answers(server):
    assert server.query(SMALL).status == 200  # the workers are up
    runaway: dict[str, object] = {}

    def run() -> None:
        started = time.monotonic()
        reply = server.query(f"SELECT (COUNT(*) AS ?n) {CROSS}")
        runaway.update(reply=reply, seconds=time.monotonic() - started)

    thread = threading.Thread(target=run)
    thread.start()
    time.sleep(0.2)  # the runaway query has its worker
    slowest = 0.0
    while thread.is_alive():
        started = time.monotonic()
        reply = server.query(SMALL)
        slowest = max(slowest, time.monotonic() - started)
        assert reply.status == 200, reply.body
        assert json.loads(reply.body) == {"head": {}, "boolean": True}
        time.sleep(0.05)
    thread.join()
    reply = runaway["reply"]
    assert reply.status == 503, reply.body
    assert reply.headers["Content-Type"] == "application/json"
    error = json.loads(reply.body)["error"]
    assert error["status"] == 503 and "MLG_QUERY_TIMEOUT" in error["message"]
    assert runaway["seconds"] < 10
    assert slowest < 1.0, f"a small query took {slowest:.2f} s while the runaway one ran"
    # The killed worker was replaced: both workers answer again.
    assert recovered(server)
    replies = [server.query(SMALL) for _ in range(4)]
    assert all(reply.status == 200 for reply in replies)


def test_runaway_queries_on_every_worker_still_end_in_time(server):
    replies: list[object] = []
    threads = [
        threading.Thread(target=lambda: replies.append(server.query(f"SELECT (COUNT(*) AS ?n) {CROSS}")))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [reply.status for reply in replies] == [503, 503, 503]
    assert recovered(server)


def recovered(server) -> bool:
    """Whether the pool answers again within 10 s (killed workers are replaced in the background)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if server.query(SMALL).status == 200:
            return True
        time.sleep(0.2)
    return False


def test_a_select_beyond_the_row_cap_is_truncated_and_flagged(server):
    reply = server.query(f"SELECT * {CROSS}")
    assert reply.status == 200, reply.body
    assert reply.headers["MLG-Truncated"] == str(MAX_ROWS)
    assert len(json.loads(reply.body)["results"]["bindings"]) == MAX_ROWS
    reply = server.query(f"SELECT * {CROSS}", "text/csv")
    assert reply.status == 200 and reply.headers["MLG-Truncated"] == str(MAX_ROWS)
    assert reply.body.count(b"\r\n") == MAX_ROWS + 1
    reply = server.query("SELECT ?s { ?s ?p ?o } LIMIT 10")
    assert reply.status == 200 and "MLG-Truncated" not in reply.headers
    assert len(json.loads(reply.body)["results"]["bindings"]) == 10


def test_a_query_after_a_write_sees_the_write(server):
    update = {"Content-Type": "application/sparql-update", **AUTH}
    for number in range(5):
        triple = f"<http://example.org/w> <http://example.org/n> {number}"
        text = f"INSERT DATA {{ GRAPH <http://example.org/fresh> {{ {triple} }} }}"
        assert server.request("POST", "/sparql", text, update).status == 204
        # Each worker is asked in turn: neither may answer from an old view.
        for _ in range(2):
            reply = server.query("SELECT (COUNT(*) AS ?n) { GRAPH <http://example.org/fresh> { ?s ?p ?o } }")
            assert reply.status == 200, reply.body
            assert json.loads(reply.body)["results"]["bindings"][0]["n"]["value"] == str(number + 1)
    turtle = "<http://example.org/t> <http://example.org/p> <http://example.org/o> ."
    headers = {"Content-Type": "text/turtle", **AUTH}
    reply = server.request("PUT", "/store?graph=http://example.org/put", turtle, headers)
    assert reply.status in (201, 204), reply.body
    reply = server.query("ASK { GRAPH <http://example.org/put> { <http://example.org/t> ?p ?o } }")
    assert json.loads(reply.body)["boolean"] is True


def test_errors_from_the_worker_keep_their_status_and_message(server):
    reply = server.query("SELECT * WHERE { ?s ?p }")
    assert reply.status == 400, reply.body
    assert "syntax" in json.loads(reply.body)["error"]["message"].lower()
    assert server.query(SMALL).status == 200
