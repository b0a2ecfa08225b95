"""Structured request logs: one JSON line per request on ``mlg.server.access``."""

from __future__ import annotations

import json
import logging
from urllib.parse import urlencode

import pytest

from mlg.config import Config
from mlg.server import create_app
from mlg.store import OxigraphStore

TOKEN = "log-test-secret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SELECT = "SELECT ?s WHERE { ?s <http://example.org/secret-predicate> ?o }"
FIELDS = {"time", "method", "path", "status", "bytes", "duration_ms", "client"}


def make_client(**settings: object):
    return create_app(Config(update_token=TOKEN, **settings), store=OxigraphStore(None)).test_client()  # type: ignore[arg-type]


@pytest.fixture
def lines(caplog):
    """The JSON lines logged so far, parsed."""
    caplog.set_level(logging.INFO, logger="mlg.server.access")

    def _lines() -> list[dict[str, object]]:
        return [json.loads(r.getMessage()) for r in caplog.records if r.name == "mlg.server.access"]

    return _lines


def request(client, method: str, path: str, **kwargs: object):
    reply = client.open(path, method=method, **kwargs)
    reply.get_data()
    reply.close()  # as a WSGI server does: the line is written when the answer has been sent
    return reply


def test_one_line_per_request_with_every_field(lines):
    client = make_client()
    reply = request(client, "GET", "/healthz?probe=1", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    (line,) = lines()
    assert set(line) >= FIELDS
    assert line["method"] == "GET" and line["path"] == "/healthz" and line["status"] == 200
    assert line["bytes"] == len(reply.data)
    assert line["client"] == "192.0.2.7"
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert str(line["time"]).endswith("Z")
    assert "kind" not in line and "query_ms" not in line


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (SELECT, "SELECT"),
        ("PREFIX e: <http://example.org/> ASK { ?s e:p ?o }", "ASK"),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT"),
        ("DESCRIBE <http://example.org/x>", "DESCRIBE"),
    ],
)
def test_a_query_logs_its_kind_and_time_but_not_its_text(lines, text, kind):
    reply = request(make_client(), "GET", "/sparql?" + urlencode({"query": text}))
    assert reply.status_code == 200
    (line,) = lines()
    assert line["kind"] == kind and line["status"] == 200 and line["path"] == "/sparql"
    assert isinstance(line["query_ms"], float) and 0 <= line["query_ms"] <= line["duration_ms"]  # type: ignore[operator]
    assert "query" not in line
    assert "secret-predicate" not in json.dumps(line) and "example.org" not in json.dumps(line)


def test_an_update_logs_its_kind_and_never_the_token(lines, caplog):
    client = make_client()
    update = "INSERT DATA { <http://example.org/a> <http://example.org/secret-predicate> 1 }"
    reply = request(
        client, "POST", "/sparql", data=update, headers={"Content-Type": "application/sparql-update", **AUTH}
    )
    assert reply.status_code == 204
    refused = request(
        client,
        "POST",
        "/sparql",
        data=update,
        headers={"Content-Type": "application/sparql-update", "Authorization": "Bearer wrong-secret"},
    )
    assert refused.status_code == 401
    ok, unauthorized = lines()
    assert (ok["kind"], ok["status"], ok["bytes"]) == ("UPDATE", 204, 0)
    assert isinstance(ok["query_ms"], float)
    assert (unauthorized["kind"], unauthorized["status"]) == ("UPDATE", 401)
    assert "query_ms" not in unauthorized  # refused before it was evaluated
    assert TOKEN not in caplog.text and "wrong-secret" not in caplog.text and "Bearer" not in caplog.text


def test_refused_and_malformed_queries_log_their_status(lines):
    client = make_client()
    request(
        client,
        "GET",
        "/sparql?" + urlencode({"query": "SELECT * { SERVICE <http://169.254.169.254/> { ?s ?p ?o } }"}),
    )
    request(client, "GET", "/sparql?" + urlencode({"query": "SELECT * {"}))
    request(client, "GET", "/api/assets/model:nothing-here")
    statuses = [(line["path"], line["status"]) for line in lines()]
    assert statuses == [("/sparql", 400), ("/sparql", 400), ("/api/assets/model:nothing-here", 404)]


def test_the_query_text_is_logged_only_when_enabled_and_cut(lines):
    long_query = SELECT + " #" + "x" * 5000
    request(make_client(log_queries=1), "POST", "/sparql", data={"query": long_query}, headers=AUTH)
    (line,) = lines()
    assert line["kind"] == "SELECT" and line["status"] == 200
    assert line["query"] == long_query[:2000]
    assert TOKEN not in json.dumps(line)


def test_a_streamed_answer_is_logged_with_the_bytes_sent(lines):
    client = make_client()
    fill = (
        "INSERT { ?s <http://example.org/v> ?x } WHERE { VALUES ?x { "
        + " ".join(map(str, range(3000)))
        + ' } BIND (IRI(CONCAT("http://example.org/n/", STR(?x))) AS ?s) }'
    )
    request(client, "POST", "/sparql", data={"update": fill}, headers=AUTH)
    reply = request(client, "GET", "/sparql?" + urlencode({"query": "SELECT * { ?s ?p ?o }"}))
    assert reply.status_code == 200
    line = lines()[-1]
    assert line["bytes"] == len(reply.data) > 100_000


def test_mlg_serve_writes_the_lines_to_stderr(serve):
    server = serve({"MLG_UPDATE_TOKEN": TOKEN})
    reply = server.request("GET", "/sparql?" + urlencode({"query": SELECT}), headers=AUTH)
    assert reply.status == 200
    server.stop()
    logged = [json.loads(line) for line in server.log if line.startswith("{")]
    assert [(line["path"], line["status"], line["kind"]) for line in logged if "kind" in line] == [
        ("/sparql", 200, "SELECT")
    ]
    assert logged[-1]["client"] == "127.0.0.1" and logged[-1]["bytes"] == len(reply.body)
    assert TOKEN not in "".join(server.log) and "secret-predicate" not in "".join(server.log)
