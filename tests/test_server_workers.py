"""`mlg serve --workers 2`: reads in two processes, every write in the writer process.

Each request here opens a new connection, so the kernel hands them to either worker:
whatever worker answers a read must already see every write answered before it (the
shared generation number and the change log of :mod:`mlg.server.writer`).
"""

from __future__ import annotations

import json
import os
import re
import signal
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from pyoxigraph import DefaultGraph, NamedNode

from mlg.server.writer import ChangeLog

TOKEN = "workers-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TURTLE = {"Content-Type": "text/turtle", **AUTH}
EX = "https://mlg.example.org/"
READS = 24


def lineage_graph(*, with_edge: bool) -> str:
    edge = f"<{EX}model/churn> <https://w3id.org/mlg#trainedOn> <{EX}dataset/events> ." if with_edge else ""
    return f"""
        @prefix mlg: <https://w3id.org/mlg#> .
        <{EX}team/growth> a mlg:Team ; mlg:name "Growth" .
        <{EX}model/churn> a mlg:Model ; mlg:name "churn" ; mlg:status "active" ;
            mlg:ownedBy <{EX}team/growth> .
        <{EX}dataset/events> a mlg:Dataset ; mlg:name "events" ; mlg:ownedBy <{EX}team/growth> .
        {edge}
    """


@pytest.fixture(scope="module")
def server(serve):
    return serve({"MLG_UPDATE_TOKEN": TOKEN}, args=("--workers", "2", "--threads", "4"))


def upstream_of_churn(server) -> set[str]:
    reply = server.request("GET", "/api/lineage/" + quote(f"{EX}model/churn", safe="") + "?depth=1")
    assert reply.status == 200, reply.body
    return {edge["target"] for edge in json.loads(reply.body)["edges"]}


def children(server) -> tuple[set[int], set[int]]:
    """The arbiter's children: gunicorn workers (forked, the arbiter's command line) and the writer."""
    pids = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text().split()
    workers, writers = set(), set()
    for pid in map(int, pids):
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
        (writers if b"mlg.server.writer" in command else workers).add(pid)
    return workers, writers


def test_two_workers_and_one_writer_serve(server):
    deadline = time.monotonic() + 30
    while len(children(server)[0]) < 2 and time.monotonic() < deadline:  # the second may still boot
        time.sleep(0.1)
    workers, writers = children(server)
    assert len(workers) == 2 and len(writers) == 1


def test_every_worker_sees_a_graph_store_write_at_once(server):
    graph = "/store?graph=" + quote(f"{EX}graph/workers-gsp", safe="")
    assert server.request("PUT", graph, lineage_graph(with_edge=True), TURTLE).status in (201, 204)
    for _ in range(READS):
        assert server.request("GET", graph, headers={"Accept": "application/n-triples"}).status == 200
        assert upstream_of_churn(server) == {f"{EX}dataset/events"}

    assert server.request("PUT", graph, lineage_graph(with_edge=False), TURTLE).status == 204
    for _ in range(READS):
        assert upstream_of_churn(server) == set()

    assert server.request("DELETE", graph, headers=AUTH).status == 204
    for _ in range(READS):
        assert server.request("GET", graph).status == 404
        assert server.request("GET", "/api/lineage/" + quote(f"{EX}model/churn", safe="")).status == 404


def test_every_worker_sees_a_sparql_update_at_once(server):
    for n in range(6):
        update = f"INSERT DATA {{ GRAPH <{EX}graph/workers-update> {{ <{EX}n/{n}> <{EX}p> {n} }} }}"
        reply = server.request(
            "POST", "/sparql", update, {"Content-Type": "application/sparql-update", **AUTH}
        )
        assert reply.status == 204, reply.body
        for _ in range(4):
            query = f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{EX}graph/workers-update> {{ ?s ?p ?o }} }}"
            reply = server.query(query)
            assert reply.status == 200, reply.body
            assert json.loads(reply.body)["results"]["bindings"][0]["n"]["value"] == str(n + 1)


def test_the_lineage_api_follows_a_sparql_update_once_the_worker_has_reread_the_lineage(server):
    # An update may change any graph: each worker re-reads all of them aside, and answers
    # lineage from the state before until it is done (seconds on a large store).
    edge = f"<{EX}model/sparql-made> <https://w3id.org/mlg#trainedOn> <{EX}dataset/sparql-source>"
    update = f"""INSERT DATA {{ GRAPH <{EX}graph/workers-lineage-update> {{
        <{EX}model/sparql-made> a <https://w3id.org/mlg#Model> . {edge} }} }}"""
    reply = server.request("POST", "/sparql", update, {"Content-Type": "application/sparql-update", **AUTH})
    assert reply.status == 204, reply.body
    path = "/api/lineage/" + quote(f"{EX}model/sparql-made", safe="") + "?depth=1"
    deadline = time.monotonic() + 30
    seen = 0
    while seen < READS and time.monotonic() < deadline:  # READS answers in a row, from either worker
        reply = server.request("GET", path)
        found = reply.status == 200 and {e["target"] for e in json.loads(reply.body)["edges"]}
        seen = seen + 1 if found == {f"{EX}dataset/sparql-source"} else 0
    assert seen == READS


def test_a_refused_write_answers_its_findings_through_the_writer_and_changes_nothing(server):
    graph = "/store?graph=" + quote(f"{EX}graph/workers-refused", safe="")
    invalid = f'@prefix mlg: <https://w3id.org/mlg#> .\n<{EX}model/x> a mlg:Model ; mlg:status "active" .'
    reply = server.request("PUT", graph, invalid, TURTLE)
    assert reply.status == 422, reply.body
    answer = json.loads(reply.body)
    assert "SHACL violation" in answer["error"]["message"] and answer["findings"]
    assert server.request("GET", graph).status == 404


def test_an_error_raised_in_the_writer_is_the_same_http_error(server):
    # The worker only screens the text (SERVICE, LOAD); pyoxigraph parses it in the writer.
    broken = f"INSERT DATA {{ GRAPH <{EX}g> {{ <{EX}s> <{EX}p> }} }}"
    reply = server.request("POST", "/sparql", broken, {"Content-Type": "application/sparql-update", **AUTH})
    assert reply.status == 400, reply.body
    assert "SPARQL syntax error" in json.loads(reply.body)["error"]["message"]
    assert (
        server.request("DELETE", "/store?graph=" + quote(f"{EX}graph/never", safe=""), headers=AUTH).status
        == 404
    )


def test_the_change_log_gives_a_view_only_the_writes_it_holds(tmp_path):
    log = ChangeLog(tmp_path / "changes.log")
    log.path.touch()
    a, b = NamedNode("https://example.org/a"), NamedNode("https://example.org/b")
    log.append(1, [a])
    log.append(2, [b, DefaultGraph()])
    log.append(3, None)  # a SPARQL update: anything
    changed, offset = log.read(0, 1)
    assert changed == [a]
    changed, offset = log.read(offset, 2)  # a view opened at 2 holds write 2, not yet 3
    assert changed == sorted([b, DefaultGraph()], key=str)
    assert log.read(offset, 2) == ([], offset)
    with log.path.open("a") as file:
        file.write("4\thttps://example.org/c")  # the writer is mid-line
    changed, offset = log.read(offset, 4)
    assert changed is None  # write 3 changed anything; the half line waits
    with log.path.open("a") as file:
        file.write("\n")
    assert log.read(offset, 4)[0] == [NamedNode("https://example.org/c")]


def test_a_dead_writer_stops_the_server_with_one_line_and_the_store_is_kept(serve):
    server = serve({"MLG_UPDATE_TOKEN": TOKEN}, args=("--workers", "2"))
    graph = "/store?graph=" + quote(f"{EX}graph/before-the-kill", safe="")
    assert server.request("PUT", graph, lineage_graph(with_edge=True), TURTLE).status == 201
    (writer,) = children(server)[1]
    os.kill(writer, signal.SIGKILL)
    # The server stops, so that its supervisor starts it again: not a server that reads but never writes.
    assert server.process.wait(timeout=60) == 3
    (line,) = [line for line in server.log if line.startswith("mlg: error:")]
    # The status is known unless gunicorn's arbiter, which reaps its children, got it first.
    ended = (
        r"mlg: error: the writer process ended( \(exit status -9\))?, so the server stopped; start it again"
    )
    assert re.fullmatch(ended, line.rstrip("\n"))
    restarted = serve(store=server.store)
    assert restarted.request("GET", graph).status == 200
