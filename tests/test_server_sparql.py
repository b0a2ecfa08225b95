"""The SPARQL 1.1 Protocol at /sparql, through Flask's test client on a real in-memory store.

Each behaviour is one real request, checked by status, content type and parsed body.
"""

from __future__ import annotations

import csv
import doctest
import importlib
import io
import json
from xml.etree import ElementTree

import pytest
import rdflib

from mlg.config import Config
from mlg.server import create_app
from mlg.server.executor import Stream
from mlg.store import OxigraphStore

TOKEN = "sparql-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
G1, G2 = "http://example.org/g1", "http://example.org/g2"
DATA = {
    G1: "<http://example.org/alice> a <http://xmlns.com/foaf/0.1/Person> ; "
    '<http://xmlns.com/foaf/0.1/name> "Alice" .',
    G2: "<http://example.org/bob> a <http://xmlns.com/foaf/0.1/Person> ; "
    '<http://xmlns.com/foaf/0.1/name> "Bob" .',
}
PEOPLE = (
    "SELECT ?name WHERE { ?p a <http://xmlns.com/foaf/0.1/Person> ; <http://xmlns.com/foaf/0.1/name> ?name }"
)
RESULTS = "http://www.w3.org/2005/sparql-results#"


@pytest.fixture(scope="module")
def client():
    app = create_app(Config(update_token=TOKEN), store=OxigraphStore(None))
    client = app.test_client()
    for graph, turtle in DATA.items():
        reply = client.put(f"/store?graph={graph}", data=turtle, content_type="text/turtle", headers=AUTH)
        assert reply.status_code == 201, reply.data
    return client


def names(reply) -> list[str]:
    assert reply.status_code == 200, reply.data
    assert reply.mimetype == "application/sparql-results+json"
    return sorted(b["name"]["value"] for b in reply.json["results"]["bindings"])


def error(reply, status: int) -> str:
    """The message of an error reply, after checking it has the one error shape."""
    assert reply.status_code == status, reply.data
    assert reply.mimetype == "application/json"
    assert reply.json["error"]["status"] == status
    return reply.json["error"]["message"]


def test_query_by_get_url_encoded_post_and_direct_post_agree(client):
    by_get = client.get("/sparql", query_string={"query": PEOPLE})
    by_form = client.post("/sparql", data={"query": PEOPLE})
    by_body = client.post("/sparql", data=PEOPLE, content_type="application/sparql-query")
    assert names(by_get) == names(by_form) == names(by_body) == ["Alice", "Bob"]


def test_the_default_graph_is_the_union_of_all_graphs(client):
    assert names(client.get("/sparql", query_string={"query": PEOPLE})) == ["Alice", "Bob"]


def test_default_graph_uri_chooses_the_default_graph(client):
    reply = client.get("/sparql", query_string={"query": PEOPLE, "default-graph-uri": G1})
    assert names(reply) == ["Alice"]


def test_named_graph_uri_chooses_the_named_graphs_and_empties_the_default(client):
    query = "SELECT * WHERE { OPTIONAL { ?x ?y ?z } GRAPH ?g { ?p <http://xmlns.com/foaf/0.1/name> ?name } }"
    reply = client.get("/sparql", query_string={"query": query, "named-graph-uri": G2})
    assert names(reply) == ["Bob"]
    assert {b["g"]["value"] for b in reply.json["results"]["bindings"]} == {G2}
    assert all("x" not in b for b in reply.json["results"]["bindings"])  # the default graph is empty


def test_the_protocol_dataset_overrides_from_clauses(client):
    query = f"SELECT ?name FROM <{G1}> WHERE {{ ?p <http://xmlns.com/foaf/0.1/name> ?name }}"
    assert names(client.get("/sparql", query_string={"query": query})) == ["Alice"]
    reply = client.get("/sparql", query_string={"query": query, "default-graph-uri": G2})
    assert names(reply) == ["Bob"]


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, "application/sparql-results+json"),
        ("application/sparql-results+json", "application/sparql-results+json"),
        ("application/json", "application/sparql-results+json"),
        ("application/sparql-results+xml", "application/sparql-results+xml"),
        ("text/csv", "text/csv"),
        ("text/tab-separated-values", "text/tab-separated-values"),
        ("text/csv;q=0.2, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
    ],
)
def test_select_results_by_content_negotiation(client, accept, media_type):
    reply = client.get(
        "/sparql", query_string={"query": PEOPLE}, headers={"Accept": accept} if accept else {}
    )
    assert reply.status_code == 200
    assert reply.mimetype == media_type
    body = reply.data.decode()
    if media_type.endswith("json"):
        found = [b["name"]["value"] for b in json.loads(body)["results"]["bindings"]]
    elif media_type.endswith("xml"):
        root = ElementTree.fromstring(body)
        found = [e.text for e in root.iter(f"{{{RESULTS}}}literal")]
    elif media_type == "text/csv":
        rows = list(csv.reader(io.StringIO(body)))
        assert rows[0] == ["name"]
        found = [row[0] for row in rows[1:]]
    else:
        lines = body.splitlines()
        assert lines[0] == "?name"
        found = [line.strip('"') for line in lines[1:]]
    assert sorted(found) == ["Alice", "Bob"]


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml"])
def test_ask_results(client, accept):
    reply = client.get(
        "/sparql",
        query_string={"query": "ASK { ?p a <http://xmlns.com/foaf/0.1/Person> }"},
        headers={"Accept": accept},
    )
    assert reply.status_code == 200 and reply.mimetype == accept
    if accept.endswith("json"):
        assert reply.json["boolean"] is True
    else:
        assert ElementTree.fromstring(reply.data).find(f"{{{RESULTS}}}boolean").text == "true"


@pytest.mark.parametrize(
    ("accept", "media_type", "rdflib_format"),
    [
        (None, "text/turtle", "turtle"),
        ("text/turtle", "text/turtle", "turtle"),
        ("application/n-triples", "application/n-triples", "nt"),
        ("application/ld+json", "application/ld+json", "json-ld"),
        ("application/rdf+xml", "application/rdf+xml", "xml"),
    ],
)
@pytest.mark.parametrize(
    "query",
    [
        "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER(?s = <http://example.org/alice>) }",
        "DESCRIBE <http://example.org/alice>",
    ],
)
def test_graph_results_by_content_negotiation(client, query, accept, media_type, rdflib_format):
    reply = client.post(
        "/sparql",
        data=query,
        content_type="application/sparql-query",
        headers={"Accept": accept} if accept else {},
    )
    assert reply.status_code == 200, reply.data
    assert reply.mimetype == media_type
    graph = rdflib.Graph().parse(data=reply.data, format=rdflib_format)
    assert (rdflib.URIRef("http://example.org/alice"), rdflib.FOAF.name, rdflib.Literal("Alice")) in graph


@pytest.mark.parametrize(
    ("query", "accept"),
    [
        (PEOPLE, "text/turtle"),
        ("ASK {}", "text/csv"),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "application/sparql-results+json"),
        (PEOPLE, "image/png"),
    ],
)
def test_406_when_nothing_acceptable(client, query, accept):
    reply = client.get("/sparql", query_string={"query": query}, headers={"Accept": accept})
    assert "the Accept header allows none of these" in error(reply, 406)


def test_a_malformed_query_gets_400_with_the_parsers_message(client):
    message = error(client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p"}), 400)
    assert message.startswith("SPARQL syntax error: error at 1:")


def test_a_malformed_update_gets_400(client):
    reply = client.post("/sparql", data={"update": "CLEAR XYZ"}, headers=AUTH)
    assert "SPARQL syntax error" in error(reply, 400)


@pytest.mark.parametrize(
    ("content_type", "status"),
    [("text/plain", 415), (None, 415), ("application/json", 415), ("application/sparql-results+json", 415)],
)
def test_unsupported_body_types_get_415(client, content_type, status):
    reply = client.post(
        "/sparql", data="ASK {}", headers={"Content-Type": content_type} if content_type else {}
    )
    assert "application/sparql-query" in error(reply, status)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("ASK {}".encode("utf-16"), "application/sparql-query; charset=UTF-16"),
        (b"ASK { FILTER(\xff) }", "application/sparql-query"),
        (b"query=ASK%20%7B%FF%7D", "application/x-www-form-urlencoded"),
        ("CLEAR ALL".encode("utf-16"), "application/sparql-update; charset=utf-16"),
    ],
)
def test_non_utf8_gets_400(client, body, content_type):
    reply = client.post("/sparql", data=body, content_type=content_type, headers=AUTH)
    assert "UTF-8" in error(reply, 400)


def test_a_non_utf8_query_string_gets_400(client):
    assert "UTF-8" in error(client.get("/sparql?query=ASK%20%7B%FF%7D"), 400)


def test_several_queries_or_updates_get_400(client):
    reply = client.get("/sparql?query=ASK%20%7B%7D&query=ASK%20%7B%7D")
    assert "several" in error(reply, 400)
    reply = client.post(
        "/sparql",
        data="update=CLEAR%20NAMED&update=CLEAR%20DEFAULT",
        content_type="application/x-www-form-urlencoded",
        headers=AUTH,
    )
    assert "several" in error(reply, 400)
    reply = client.post("/sparql", data={"query": "ASK {}", "update": "CLEAR ALL"}, headers=AUTH)
    assert "not both" in error(reply, 400)


def test_an_update_by_get_gets_400_and_changes_nothing(client):
    reply = client.get("/sparql", query_string={"update": "CLEAR ALL"}, headers=AUTH)
    assert "POST" in error(reply, 400)
    assert names(client.get("/sparql", query_string={"query": PEOPLE})) == ["Alice", "Bob"]


def test_other_methods_get_405_in_the_error_shape(client):
    reply = client.put(
        "/sparql?query=ASK%20%7B%7D", data="x", content_type="application/x-www-form-urlencoded"
    )
    error(reply, 405)
    assert set(reply.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_dataset_parameters_of_the_wrong_kind_get_400(client):
    reply = client.get("/sparql", query_string={"query": "ASK {}", "using-graph-uri": G1})
    assert "using-graph-uri is for an update" in error(reply, 400)
    reply = client.get("/sparql", query_string={"query": "ASK {}", "default-graph-uri": "not an iri"})
    assert "not an absolute IRI" in error(reply, 400)


@pytest.fixture
def writable():
    """A fresh server for tests that change the store."""
    app = create_app(Config(update_token=TOKEN), store=OxigraphStore(None))
    client = app.test_client()
    for graph, turtle in DATA.items():
        assert (
            client.put(
                f"/store?graph={graph}", data=turtle, content_type="text/turtle", headers=AUTH
            ).status_code
            == 201
        )
    return client


def ask(client, query: str) -> bool:
    reply = client.post("/sparql", data=query, content_type="application/sparql-query")
    assert reply.status_code == 200, reply.data
    return reply.json["boolean"]


def test_update_by_direct_post_and_by_form(writable):
    reply = writable.post(
        "/sparql",
        data="INSERT DATA { GRAPH <http://example.org/g3> { <http://e/s> <http://e/p> 1 } }",
        content_type="application/sparql-update",
        headers=AUTH,
    )
    assert reply.status_code == 204 and reply.data == b""
    reply = writable.post("/sparql", data={"update": "DROP GRAPH <http://example.org/g1>"}, headers=AUTH)
    assert reply.status_code == 204
    assert ask(writable, "ASK { GRAPH <http://example.org/g3> { ?s ?p 1 } }")
    assert names(writable.get("/sparql", query_string={"query": PEOPLE})) == ["Bob"]


def test_using_graph_uri_is_the_default_graph_of_every_where_clause(writable):
    update = (
        "INSERT { GRAPH <http://example.org/out> { ?p a <http://example.org/Named> } } "
        "WHERE { ?p <http://xmlns.com/foaf/0.1/name> ?n } ; "
        "DELETE WHERE { ?p <http://xmlns.com/foaf/0.1/name> ?n }"
    )
    reply = writable.post(
        f"/sparql?using-graph-uri={G1}", data=update, content_type="application/sparql-update", headers=AUTH
    )
    assert reply.status_code == 204, reply.data
    assert ask(writable, "ASK { GRAPH <http://example.org/out> { <http://example.org/alice> a ?c } }")
    assert not ask(writable, "ASK { GRAPH <http://example.org/out> { <http://example.org/bob> a ?c } }")
    # DELETE WHERE matched in g1 too, and deleted from the store's default graph (USING is not WITH):
    # nothing there.
    assert names(writable.get("/sparql", query_string={"query": PEOPLE})) == ["Alice", "Bob"]


def test_using_named_graph_uri(writable):
    update = (
        "INSERT { GRAPH <http://example.org/out> { ?p <http://example.org/in> ?g } } "
        "WHERE { GRAPH ?g { ?p a ?c } }"
    )
    reply = writable.post(
        f"/sparql?using-named-graph-uri={G2}",
        data=update,
        content_type="application/sparql-update",
        headers=AUTH,
    )
    assert reply.status_code == 204, reply.data
    reply = writable.get(
        "/sparql",
        query_string={
            "query": "SELECT ?g { GRAPH <http://example.org/out> { ?p <http://example.org/in> ?g } }"
        },
    )
    assert [b["g"]["value"] for b in reply.json["results"]["bindings"]] == [G2]


@pytest.mark.parametrize("clause", ["WITH <http://example.org/g1>", "USING <http://example.org/g1>"])
def test_using_parameters_with_using_or_with_in_the_update_get_400(writable, clause):
    if clause.startswith("WITH"):
        update = f"{clause} DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}"
    else:
        update = f"DELETE {{ ?s ?p ?o }} {clause} WHERE {{ ?s ?p ?o }}"
    reply = writable.post(
        f"/sparql?using-named-graph-uri={G2}",
        data=update,
        content_type="application/sparql-update",
        headers=AUTH,
    )
    assert "SPARQL 1.1 Protocol §2.2.3" in error(reply, 400)
    assert names(writable.get("/sparql", query_string={"query": PEOPLE})) == ["Alice", "Bob"]


def test_relative_iris_in_updates_resolve_against_the_endpoint(writable):
    reply = writable.post(
        "/sparql",
        data="INSERT DATA { GRAPH <http://example.org/base> { <http://e/s> <http://e/p> <thing> } }",
        content_type="application/sparql-update",
        headers=AUTH,
    )
    assert reply.status_code == 204
    assert ask(writable, "ASK { GRAPH <http://example.org/base> { ?s ?p <http://localhost/thing> } }")


def test_predefined_prefixes(client):
    reply = client.get("/sparql", query_string={"query": "SELECT (mlg:Model AS ?x) {}"})
    assert reply.json["results"]["bindings"][0]["x"]["value"] == "https://w3id.org/mlg#Model"


def test_an_error_while_rows_are_computed_is_a_clean_error():
    # An allow-listed SERVICE endpoint that pyoxigraph refuses to call (port 9): the failure
    # comes while the first row is computed, after the query parsed and the response began.
    endpoint = "http://127.0.0.1:9/sparql"
    app = create_app(Config(service_allow=endpoint), store=OxigraphStore(None))
    reply = app.test_client().get(
        "/sparql", query_string={"query": f"SELECT * {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}"}
    )
    assert "port 9 is not allowed" in error(reply, 500)


def test_an_error_in_the_first_bytes_of_an_answer_is_raised_before_it_begins():
    def produce(pipe):
        pipe.begin("text/plain")
        pipe.write(b'{"head": ...')  # pyoxigraph flushes what it has when evaluation fails
        raise RuntimeError("evaluation broke")

    with pytest.raises(Exception, match="SPARQL evaluation failed: evaluation broke"):
        Stream(produce)


def test_results_stream_in_chunks_and_an_error_after_the_first_chunk_ends_the_stream():
    def produce(pipe):
        pipe.begin("text/plain")
        pipe.write(b"first")
        pipe.write(b"second")
        raise RuntimeError("evaluation broke")

    stream = Stream(produce, hold=1)
    assert stream.content_type == "text/plain"
    assert next(stream) == b"first"
    assert next(stream) == b"second"
    with pytest.raises(Exception, match="SPARQL evaluation failed: evaluation broke"):
        next(stream)


def test_an_error_before_the_first_chunk_is_raised_before_the_answer():
    def produce(pipe):
        raise RuntimeError("no rows")

    with pytest.raises(Exception, match="SPARQL evaluation failed: no rows") as raised:
        Stream(produce)
    assert raised.value.http_status == 400


def test_closing_a_stream_stops_its_producer():
    written = []

    def produce(pipe):
        for _ in range(10_000):
            pipe.write(b"x" * 100)
            written.append(1)

    stream = Stream(produce, chunks=2)
    stream.close()
    stream._thread.join(timeout=5)
    assert not stream._thread.is_alive()
    assert len(written) < 10_000


@pytest.mark.parametrize(
    "module",
    [
        "mlg.server.guard",
        "mlg.server.negotiation",
        "mlg.server.sparql",
        "mlg.server.inputs",
        "mlg.server.app",
    ],
)
def test_docstring_examples(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
