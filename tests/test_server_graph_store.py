"""The Graph Store HTTP Protocol at /store, through Flask's test client on a real in-memory store.

Every write is a submission through SHACL admission: a violation is 422 with the findings,
and the store keeps every quad it had.
"""

from __future__ import annotations

import io
import time

import pytest
import rdflib
from pyoxigraph import RdfFormat
from rdflib.compare import isomorphic

from mlg.config import Config
from mlg.server import create_app
from mlg.store import OxigraphStore

TOKEN = "gsp-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TURTLE = {"Content-Type": "text/turtle", **AUTH}
GRAPH = "http://example.org/people"
PEOPLE = """
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
<http://example.org/alice> a foaf:Person ; foaf:name "Alice" ;
    foaf:account [ a foaf:OnlineAccount ; foaf:accountName "alice" ] .
"""
TEAM = """
@prefix mlg: <https://w3id.org/mlg#> .
<https://mlg.example.org/team/fraud> a mlg:Team ; mlg:name "Fraud ML" .
<https://mlg.example.org/model/detector> a mlg:Model ; mlg:name "Fraud detector" ; mlg:status "active" ;
    mlg:ownedBy <https://mlg.example.org/team/fraud> .
"""
BROKEN = """
@prefix mlg: <https://w3id.org/mlg#> .
<https://mlg.example.org/model/detector> a mlg:Model ; mlg:name "Fraud detector" ; mlg:status "bogus" ;
    mlg:ownedBy <https://mlg.example.org/model/other> .
"""
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">
  <rdf:Description rdf:about="http://example.org/s"><ex:p>&lol9;</ex:p></rdf:Description>
</rdf:RDF>
"""


def snapshot(store: OxigraphStore) -> list[bytes]:
    """Every quad of the store, sorted: equal snapshots mean an unchanged store."""
    output = io.BytesIO()
    store.dump(output, RdfFormat.N_QUADS)
    return sorted(output.getvalue().splitlines())


@pytest.fixture
def store():
    return OxigraphStore(None)


@pytest.fixture
def client(store):
    return create_app(Config(update_token=TOKEN), store=store).test_client()


def graph_of(reply, format: str = "turtle") -> rdflib.Graph:
    assert reply.status_code == 200, reply.data
    return rdflib.Graph().parse(data=reply.data, format=format)


def error(reply, status: int) -> str:
    assert reply.status_code == status, reply.data
    assert reply.mimetype == "application/json"
    assert reply.json["error"]["status"] == status
    return reply.json["error"]["message"]


def test_put_creates_then_replaces_and_get_returns_what_was_put(client):
    reply = client.put(f"/store?graph={GRAPH}", data=PEOPLE, headers=TURTLE)
    assert reply.status_code == 201 and reply.data == b""
    assert isomorphic(graph_of(client.get(f"/store?graph={GRAPH}")), rdflib.Graph().parse(data=PEOPLE))
    bob = '<http://example.org/bob> <http://xmlns.com/foaf/0.1/name> "Bob" .'
    reply = client.put(f"/store?graph={GRAPH}", data=bob, headers=TURTLE)
    assert reply.status_code == 204
    assert isomorphic(graph_of(client.get(f"/store?graph={GRAPH}")), rdflib.Graph().parse(data=bob))


def test_blank_nodes_come_back_as_blank_nodes_and_queries_see_stable_iris(client):
    client.put(f"/store?graph={GRAPH}", data=PEOPLE, headers=TURTLE)
    got = graph_of(client.get(f"/store?graph={GRAPH}", headers={"Accept": "application/n-triples"}), "nt")
    accounts = list(got.objects(rdflib.URIRef("http://example.org/alice"), rdflib.FOAF.account))
    assert len(accounts) == 1 and isinstance(accounts[0], rdflib.BNode)
    query = "SELECT ?a { <http://example.org/alice> <http://xmlns.com/foaf/0.1/account> ?a }"
    reply = client.get("/sparql", query_string={"query": query})
    assert "/.well-known/genid/" in reply.json["results"]["bindings"][0]["a"]["value"]


@pytest.mark.parametrize(
    ("accept", "format"),
    [("text/turtle", "turtle"), ("application/n-triples", "nt"), ("application/rdf+xml", "xml"),
     ("application/ld+json", "json-ld")],
)  # fmt: skip
def test_get_negotiates_the_format(client, accept, format):
    client.put(f"/store?graph={GRAPH}", data=PEOPLE, headers=TURTLE)
    reply = client.get(f"/store?graph={GRAPH}", headers={"Accept": accept})
    assert reply.mimetype == accept
    assert isomorphic(graph_of(reply, format), rdflib.Graph().parse(data=PEOPLE))
    assert "the Accept header allows none" in error(
        client.get(f"/store?graph={GRAPH}", headers={"Accept": "text/csv"}), 406
    )


def test_post_adds_to_the_graph(client):
    assert client.post(f"/store?graph={GRAPH}", data=PEOPLE, headers=TURTLE).status_code == 201
    more = '<http://example.org/alice> <http://xmlns.com/foaf/0.1/nick> "al" .'
    assert client.post(f"/store?graph={GRAPH}", data=more, headers=TURTLE).status_code == 204
    expected = rdflib.Graph().parse(data=PEOPLE).parse(data=more)
    assert isomorphic(graph_of(client.get(f"/store?graph={GRAPH}")), expected)


def test_blank_nodes_of_separate_posts_and_parts_stay_apart_and_a_second_put_changes_nothing(client, store):
    card = '[] a <http://xmlns.com/foaf/0.1/Person> ; <http://xmlns.com/foaf/0.1/name> "Anon" .'
    client.post(f"/store?graph={GRAPH}", data=card, headers=TURTLE)
    client.post(f"/store?graph={GRAPH}", data=card, headers=TURTLE)
    people = graph_of(client.get(f"/store?graph={GRAPH}"))
    assert len(set(people.subjects(rdflib.RDF.type, rdflib.FOAF.Person))) == 2
    parts = {name: (io.BytesIO(card.encode()), f"{name}.ttl", "text/turtle") for name in ("a", "b")}
    client.post(f"/store?graph={GRAPH}", data=parts, content_type="multipart/form-data", headers=AUTH)
    people = graph_of(client.get(f"/store?graph={GRAPH}"))
    assert len(set(people.subjects(rdflib.RDF.type, rdflib.FOAF.Person))) == 4
    client.put(f"/store?graph={GRAPH}", data=card, headers=TURTLE)
    before = snapshot(store)
    assert client.put(f"/store?graph={GRAPH}", data=card, headers=TURTLE).status_code == 204
    data = [quad for quad in snapshot(store) if b"provenanceGraph" not in quad]
    assert data == [quad for quad in before if b"provenanceGraph" not in quad]


def test_post_to_the_endpoint_creates_a_graph_named_in_location(client):
    reply = client.post("/store", data=PEOPLE, headers=TURTLE)
    assert reply.status_code == 201
    location = reply.headers["Location"]
    assert location.startswith("https://mlg.example.org/graph/")
    assert isomorphic(
        graph_of(client.get("/store", query_string={"graph": location})), rdflib.Graph().parse(data=PEOPLE)
    )


def test_multipart_post_adds_every_part(client):
    parts = {
        "a": (
            rdflib.Graph().parse(data=PEOPLE).serialize(format="nt").encode(),
            "a.nt",
            "application/n-triples",
        ),
        "b": (b'<http://example.org/bob> <http://xmlns.com/foaf/0.1/name> "Bob" .', "b.ttl", "text/turtle"),
    }
    data = {name: (io.BytesIO(body), filename, kind) for name, (body, filename, kind) in parts.items()}
    reply = client.post(f"/store?graph={GRAPH}", data=data, content_type="multipart/form-data", headers=AUTH)
    assert reply.status_code == 201, reply.data
    got = graph_of(client.get(f"/store?graph={GRAPH}"))
    assert (rdflib.URIRef("http://example.org/bob"), rdflib.FOAF.name, rdflib.Literal("Bob")) in got
    assert (rdflib.URIRef("http://example.org/alice"), rdflib.FOAF.name, rdflib.Literal("Alice")) in got


def test_delete_then_get_head_and_delete_are_404(client):
    client.put(f"/store?graph={GRAPH}", data=PEOPLE, headers=TURTLE)
    head = client.head(f"/store?graph={GRAPH}")
    assert head.status_code == 200 and head.mimetype == "text/turtle" and head.data == b""
    assert client.delete(f"/store?graph={GRAPH}", headers=AUTH).status_code == 204
    assert f"there is no graph <{GRAPH}>" in error(client.get(f"/store?graph={GRAPH}"), 404)
    assert client.head(f"/store?graph={GRAPH}").status_code == 404
    error(client.delete(f"/store?graph={GRAPH}", headers=AUTH), 404)


def test_the_default_graph(client):
    reply = client.put("/store?default", data=PEOPLE, headers=TURTLE)
    assert reply.status_code == 204
    assert isomorphic(graph_of(client.get("/store?default")), rdflib.Graph().parse(data=PEOPLE))
    assert client.delete("/store?default", headers=AUTH).status_code == 204
    assert len(graph_of(client.get("/store?default"))) == 0


def test_direct_graph_identification(client):
    assert client.put("/store/people/1", data=PEOPLE, headers=TURTLE).status_code == 201
    reply = client.get("/store", query_string={"graph": "http://localhost/store/people/1"})
    assert isomorphic(graph_of(reply), rdflib.Graph().parse(data=PEOPLE))


@pytest.mark.parametrize(
    ("method", "url", "status", "message"),
    [
        ("GET", "/store", 400, "name a graph"),
        ("PUT", "/store", 400, "PUT needs a graph"),
        ("GET", "/store?graph=a&graph=b", 400, "name one graph"),
        ("GET", "/store?graph=x&default", 400, "name one graph"),
        ("GET", "/store?graph=relative", 400, "not an absolute IRI"),
        ("PUT", "/store?graph=https://w3id.org/mlg", 403, "kept by mlg itself"),
        ("DELETE", "/store?graph=https://w3id.org/mlg%23provenanceGraph", 403, "kept by mlg itself"),
    ],
)
def test_bad_graph_names(client, method, url, status, message):
    assert message in error(client.open(url, method=method, data=PEOPLE, headers=TURTLE), status)


@pytest.mark.parametrize(
    ("content_type", "body", "status", "message"),
    [
        ("text/plain", PEOPLE, 415, "text/plain is not read here"),
        (None, PEOPLE, 415, "no Content-Type"),
        ("text/turtle", "<http://e/a> <http://e/b> .", 400, "request body: not valid turtle"),
        ("text/turtle; charset=latin-1", PEOPLE, 400, "must be UTF-8"),
        ("application/ld+json", '{"@context": "http://example.org/context.jsonld", "@id": "http://e/x"}', 400,
         "remote context is not fetched"),
        ("application/rdf+xml", "<a>" * 300 + "</a>" * 300, 400, "nested deeper"),
    ],
)  # fmt: skip
def test_bad_bodies(client, store, content_type, body, status, message):
    before = snapshot(store)
    headers = {**AUTH, **({"Content-Type": content_type} if content_type else {})}
    assert message in error(client.put(f"/store?graph={GRAPH}", data=body, headers=headers), status)
    assert snapshot(store) == before


def test_billion_laughs_is_refused_quickly_and_writes_nothing(client, store):
    before = snapshot(store)
    started = time.perf_counter()
    reply = client.put(
        f"/store?graph={GRAPH}", data=BILLION_LAUGHS, headers={"Content-Type": "application/rdf+xml", **AUTH}
    )
    assert "DOCTYPE" in error(reply, 400)
    assert time.perf_counter() - started < 1
    assert snapshot(store) == before


def test_a_violation_is_422_with_the_findings_and_leaves_every_quad_unchanged(client, store):
    assert client.put(f"/store?graph={GRAPH}", data=TEAM, headers=TURTLE).status_code == 201
    before = snapshot(store)
    for method in ("PUT", "POST"):
        reply = client.open(f"/store?graph={GRAPH}", method=method, data=BROKEN, headers=TURTLE)
        assert "nothing of this request was written" in error(reply, 422)
        findings = reply.json["findings"]
        assert {(f["path"], f["severity"]) for f in findings} == {
            ("mlg:status", "Violation"),
            ("mlg:ownedBy", "Violation"),
        }
        assert all(f["focus"] == "https://mlg.example.org/model/detector" for f in findings)
        assert snapshot(store) == before
    assert client.put("/store?graph=http://example.org/new", data=BROKEN, headers=TURTLE).status_code == 422
    assert snapshot(store) == before


def test_warnings_are_reported_with_the_admitted_write(client):
    twice = TEAM.replace('mlg:status "active"', 'mlg:status "active" ; mlg:description "one", "two"')
    reply = client.put(f"/store?graph={GRAPH}", data=twice, headers=TURTLE)
    assert reply.status_code == 201 and reply.mimetype == "application/json"
    assert reply.json["counts"] == {"Violation": 0, "Warning": 1, "Info": 0}
    assert reply.json["findings"][0]["path"] == "mlg:description"


def test_admission_materialises_super_classes_into_the_graph(client):
    client.put(f"/store?graph={GRAPH}", data=TEAM, headers=TURTLE)
    got = graph_of(client.get(f"/store?graph={GRAPH}"))
    detector = rdflib.URIRef("https://mlg.example.org/model/detector")
    assert (detector, rdflib.RDF.type, rdflib.URIRef("http://www.w3.org/ns/prov#Entity")) in got
    assert (detector, rdflib.URIRef("http://www.w3.org/ns/prov#wasAttributedTo"), None) in got


def test_provenance_is_kept_outside_the_graph_and_dropped_with_it(client):
    client.put(f"/store?graph={GRAPH}", data=PEOPLE, headers=TURTLE)
    got = graph_of(client.get(f"/store?graph={GRAPH}"))
    assert not set(got.subjects(None, None)) & {rdflib.URIRef(GRAPH)}
    query = f"SELECT * {{ GRAPH mlg:provenanceGraph {{ <{GRAPH}> mlg:digest ?digest; mlg:format ?format }} }}"
    rows = client.get("/sparql", query_string={"query": query}).json["results"]["bindings"]
    assert [row["format"]["value"] for row in rows] == ["turtle"]
    assert rows[0]["digest"]["value"].startswith("sha256:")
    client.delete(f"/store?graph={GRAPH}", headers=AUTH)
    assert client.get("/sparql", query_string={"query": query}).json["results"]["bindings"] == []


def test_a_graph_written_by_a_sparql_update_with_blank_nodes_can_be_replaced(client):
    update = f"INSERT DATA {{ GRAPH <{GRAPH}> {{ _:x <http://example.org/p> _:y }} }}"
    assert (
        client.post(
            "/sparql", data=update, content_type="application/sparql-update", headers=AUTH
        ).status_code
        == 204
    )
    assert client.put(f"/store?graph={GRAPH}", data=PEOPLE, headers=TURTLE).status_code == 204
    assert isomorphic(graph_of(client.get(f"/store?graph={GRAPH}")), rdflib.Graph().parse(data=PEOPLE))


def test_an_empty_put_leaves_an_empty_graph(client):
    assert client.put(f"/store?graph={GRAPH}", data="", headers=TURTLE).status_code == 201
    reply = client.get(f"/store?graph={GRAPH}")
    assert reply.status_code == 200 and len(graph_of(reply)) == 0
