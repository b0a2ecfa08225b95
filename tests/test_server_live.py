"""`mlg serve` for real: gunicorn on loopback, the store on disk, requests over HTTP.

What only a real server shows: streamed (chunked) answers, hostile requests refused while
other clients keep their answers, the store's lock, configuration from a TOML file,
graceful shutdown, and `mlg demo` serving what it loaded.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

TOKEN = "live-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ROWS = 20_000
FILL = f"""
INSERT {{ GRAPH <http://example.org/big> {{ ?s <http://example.org/value> ?v }} }}
WHERE {{
  VALUES ?x {{ {" ".join(map(str, range(100)))} }}
  VALUES ?y {{ {" ".join(map(str, range(100)))} }}
  VALUES ?z {{ {" ".join(map(str, range(ROWS // 10_000)))} }}
  BIND (IRI(CONCAT("http://example.org/n/", STR(?x), "/", STR(?y), "/", STR(?z))) AS ?s)
  BIND (?x * 1000 + ?y * 10 + ?z AS ?v)
}}
"""
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
    + ']><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:e="http://e/">'
    '<rdf:Description rdf:about="http://e/s"><e:p>&j;</e:p></rdf:Description></rdf:RDF>'
)


@pytest.fixture(scope="module")
def server(serve):
    server = serve({"MLG_UPDATE_TOKEN": TOKEN, "MLG_MAX_BODY_BYTES": "1000000"}, args=("--threads", "8"))
    reply = server.request("POST", "/sparql", FILL, {"Content-Type": "application/sparql-update", **AUTH})
    assert reply.status == 204, reply.body
    return server


def test_health_and_readiness(server):
    assert json.loads(server.request("GET", "/healthz").body) == {"status": "ok"}
    assert json.loads(server.request("GET", "/readyz").body) == {"status": "ready"}


def test_a_large_answer_is_streamed_in_chunks(server):
    reply = server.query("SELECT ?s ?v { GRAPH <http://example.org/big> { ?s ?p ?v } }")
    assert reply.status == 200
    assert reply.headers["Transfer-Encoding"] == "chunked" and "Content-Length" not in reply.headers
    bindings = json.loads(reply.body)["results"]["bindings"]
    assert len(bindings) == ROWS
    construct = "CONSTRUCT { ?s ?p ?v } WHERE { GRAPH <http://example.org/big> { ?s ?p ?v } }"
    reply = server.query(construct, "application/n-triples")
    assert reply.status == 200
    assert reply.headers["Transfer-Encoding"] == "chunked"
    assert reply.body.count(b"\n") == ROWS


def test_hostile_requests_get_their_errors_while_other_clients_get_answers(server):
    count = "SELECT (COUNT(*) AS ?n) { GRAPH <http://example.org/big> { ?s ?p ?o } }"
    update = {"Content-Type": "application/sparql-update", **AUTH}
    billion_laughs = {"Content-Type": "application/rdf+xml", **AUTH}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    hostile = [
        (lambda: server.query("SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"), 400),
        (lambda: server.query("SELECT * { SERVICE <http://169.254.169.254/latest/> { ?s ?p ?o } }"), 400),
        (lambda: server.query("SELECT * { SERVICE <http://localhost/sparql> { ?s ?p ?o } }"), 400),
        (lambda: server.request("POST", "/sparql", "LOAD <http://example.org/x>", update), 400),
        (
            lambda: server.request("POST", "/sparql", "CLEAR ALL", {**update, "Authorization": "Bearer no"}),
            401,
        ),
        (lambda: server.request("PUT", "/store?graph=http://e/g", BILLION_LAUGHS, billion_laughs), 400),
        (lambda: server.request("POST", "/sparql", "query=ASK" + "%7B" * 3000 + "%7D" * 3000, form), 400),
        (lambda: server.request("POST", "/sparql", "ASK {" + " " * 2_000_000 + "}", update), 413),
    ]

    def normal():
        reply = server.query(count)
        return reply.status, json.loads(reply.body)["results"]["bindings"][0]["n"]["value"]

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = [pool.submit(normal) for _ in range(20)]
        refusals = [(pool.submit(call), status) for call, status in hostile for _ in range(2)]
        for future, status in refusals:
            reply = future.result()
            assert reply.status == status, reply.body
            assert json.loads(reply.body)["error"]["status"] == status
        assert {future.result() for future in answers} == {(200, str(ROWS))}
    assert server.process.poll() is None  # the depth bomb did not crash the worker
    assert normal() == (200, str(ROWS))


def test_the_service_description_names_the_real_endpoint(server):
    reply = server.request("GET", "/sparql", headers={"Accept": "application/n-triples"})
    assert reply.status == 200
    endpoint = f"<{server.url}/sparql>".encode()
    assert endpoint + b" <http://www.w3.org/ns/sparql-service-description#endpoint> " + endpoint in reply.body


def test_a_second_server_on_the_same_store_says_in_one_line_that_it_is_held(server):
    finished = subprocess.run(
        [sys.executable, "-m", "mlg", "serve", "--store", str(server.store), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 3
    assert (
        f"mlg: error: the store at {server.store} is held by another process (mlg serve?)" in finished.stderr
    )
    assert "Traceback" not in finished.stderr


def test_settings_from_a_toml_file_and_the_environment_over_it(serve, tmp_path):
    config = tmp_path / "mlg.toml"
    config.write_text(
        'update_token = ["from-file", "also-from-file"]\nthreads = 2\nstore = "served-store"\n',
        encoding="utf-8",
    )
    server = serve(command=["--config", str(config), "serve", "--port", "0"], store=tmp_path / "served-store")
    put = {"Content-Type": "text/turtle"}
    body = "<http://e/s> <http://e/p> 1 ."
    assert (
        server.request(
            "PUT", "/store?default", body, {**put, "Authorization": "Bearer also-from-file"}
        ).status
        == 204
    )
    assert (tmp_path / "served-store").is_dir()  # relative to the file
    server.stop()
    server = serve(
        {"MLG_UPDATE_TOKEN": "from-env"}, command=["serve", "--config", str(config), "--port", "0"]
    )
    assert (
        server.request("PUT", "/store?default", body, {**put, "Authorization": "Bearer from-file"}).status
        == 401
    )
    assert (
        server.request("PUT", "/store?default", body, {**put, "Authorization": "Bearer from-env"}).status
        == 204
    )
    server.stop()


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_ctrl_c_finish_in_flight_requests_and_stop_cleanly(serve, stop):
    server = serve()
    values = "{ " + " ".join(map(str, range(200))) + " }"
    slow = f"SELECT (COUNT(*) AS ?n) {{ VALUES ?a {values} VALUES ?b {values} VALUES ?c {values} }}"
    results: list[tuple[int, bytes]] = []

    def ask() -> None:
        reply = server.query(slow)
        results.append((reply.status, reply.body))

    thread = threading.Thread(target=ask)
    thread.start()
    time.sleep(0.3)  # the query is being evaluated (about a second)
    server.process.send_signal(stop)
    thread.join(timeout=30)
    assert server.process.wait(timeout=30) == 0
    status, body = results[0]
    assert status == 200 and json.loads(body)["results"]["bindings"][0]["n"]["value"] == "8000000"


def test_sigterm_finishes_an_in_flight_write_and_the_restarted_store_holds_it(serve):
    server = serve({"MLG_UPDATE_TOKEN": TOKEN})
    triples = 30_000  # admission takes about 2 s: SIGTERM lands while it runs
    body = "".join(f'<http://example.org/s{i}> <http://example.org/p> "{i}" .\n' for i in range(triples))
    graph = "http://example.org/in-flight"
    results: list[int] = []

    def put() -> None:
        headers = {"Content-Type": "application/n-triples", **AUTH}
        results.append(server.request("PUT", f"/store?graph={graph}", body, headers).status)

    thread = threading.Thread(target=put)
    thread.start()
    time.sleep(0.5)
    assert thread.is_alive(), "the write finished before the signal: make it larger"
    server.process.send_signal(signal.SIGTERM)
    thread.join(timeout=60)
    assert server.process.wait(timeout=60) == 0
    assert results == [201]
    restarted = serve(store=server.store)
    count = f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    reply = restarted.query(count)
    assert json.loads(reply.body)["results"]["bindings"][0]["n"]["value"] == str(triples)


def test_mlg_demo_serves_what_it_loaded(serve, tmp_path):
    server = serve(
        command=["demo", "--store", str(tmp_path / "demo"), "--port", "0"], store=tmp_path / "demo"
    )
    ask = "ASK { <https://mlg.example.org/service/checkout-api> mlg:upstream+ ?data . ?data a mlg:Dataset }"
    reply = server.query(ask)
    assert reply.status == 200 and json.loads(reply.body)["boolean"] is True
    reply = server.request("POST", "/sparql", "CLEAR ALL", {"Content-Type": "application/sparql-update"})
    assert reply.status == 403  # the demo serves read-only
    server.stop()
