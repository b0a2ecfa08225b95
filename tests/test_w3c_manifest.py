"""A runner for the W3C SPARQL 1.1 manifests of HTTP tests, and tests of the runner itself.

The protocol and graph-store manifests describe each test as a sequence of HTTP requests
in RDF (the W3C HTTP vocabulary: ht:methodName, ht:absolutePath, ht:headers, ht:body)
with the expected response (mf:expectedStatus, mf:expectedFormat, mf:expectedBoolean,
an expected body to compare as a graph, mf:expectedLocation to remember). This module
reads them with rdflib and replays them against a real server; test_w3c_protocol.py and
test_w3c_graph_store.py parametrize over the entries.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import pytest
import rdflib
from rdflib.collection import Collection
from rdflib.compare import isomorphic

W3C = Path(__file__).resolve().parents[2] / "shared" / "w3c"
TOKEN = "w3c-runner-token"

MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
UT = rdflib.Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
HTS = "http://www.w3.org/2011/http-statusCodes#"
TEST_KINDS = (MF.ProtocolTest, MF.GraphStoreProtocolTest)
STATUS_NAMES = {"OK": 200, "Created": 201, "Accepted": 202, "NoContent": 204, "NotFound": 404}
RESULT_TYPES = {
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
}
BOOLEAN_TYPES = {"application/sparql-results+json", "application/sparql-results+xml"}
RDF_TYPES = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
}


@dataclass
class Expect:
    statuses: list[tuple[int, int]]
    """Accepted statuses as (lowest, highest) ranges."""
    format: str | None = None
    boolean: bool | None = None
    content_type: str | None = None
    body: str | None = None
    location: str | None = None
    """A variable ($LOCATION$) that takes the Location header's value for later requests."""


@dataclass
class Step:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes | None
    expect: Expect


@dataclass
class Entry:
    name: str
    label: str
    steps: list[Step]
    authority: str
    graph_data: list[tuple[Path, str]] = field(default_factory=list)

    def __str__(self) -> str:
        return self.name


def read_manifest(path: Path) -> list[Entry]:
    """The entries of a manifest and of the manifests it includes, in their order, then the
    tests a manifest defines without listing them (manifest-direct.ttl defines one)."""
    graph = rdflib.Graph().parse(path, format="turtle", publicID=path.as_uri())
    manifest = rdflib.URIRef(path.as_uri())
    entries: list[Entry] = []
    for included in _list(graph, graph.value(manifest, MF.include)):
        entries += read_manifest(Path(str(included).removeprefix("file://")))
    listed = _list(graph, graph.value(manifest, MF.entries))
    unlisted = sorted(
        {node for kind in TEST_KINDS for node in graph.subjects(rdflib.RDF.type, kind)} - set(listed), key=str
    )
    for node in [*listed, *unlisted]:
        entries.append(_entry(graph, node, path.parent))
    return entries


def _list(graph: rdflib.Graph, head: rdflib.term.Node | None) -> list[rdflib.term.Node]:
    return [] if head is None else list(Collection(graph, head))


def _entry(graph: rdflib.Graph, node: rdflib.term.Node, folder: Path) -> Entry:
    action = graph.value(node, MF.action)
    steps = [_step(graph, request) for request in _list(graph, graph.value(action, HT.requests))]
    data = [
        (folder / Path(str(graph.value(d, UT.graph))).name, str(graph.value(d, rdflib.RDFS.label)))
        for d in graph.objects(node, UT.graphData)
    ]
    return Entry(
        str(node).rsplit("#", 1)[-1],
        str(graph.value(node, MF.name)),
        steps,
        str(graph.value(action, HT.connectionAuthority) or "www.example"),
        sorted(data),
    )


def _headers(graph: rdflib.Graph, node: rdflib.term.Node) -> list[tuple[str, str]]:
    return [
        (str(graph.value(h, HT.fieldName)), str(graph.value(h, HT.fieldValue)))
        for h in _list(graph, graph.value(node, HT.headers))
    ]


def _text(graph: rdflib.Graph, node: rdflib.term.Node) -> tuple[str, str] | None:
    body = graph.value(node, HT.body)
    if body is None:
        return None
    return str(graph.value(body, CNT.chars)), str(graph.value(body, CNT.characterEncoding) or "UTF-8")


def _step(graph: rdflib.Graph, request: rdflib.term.Node) -> Step:
    response = graph.value(request, HT.resp)
    statuses = []
    for status in graph.objects(response, MF.expectedStatus):
        local = str(status).removeprefix(HTS)
        found = re.fullmatch(r"StatusCode(\d)xx", local)
        if found:
            statuses.append((int(found.group(1)) * 100, int(found.group(1)) * 100 + 99))
        else:
            statuses.append((STATUS_NAMES[local], STATUS_NAMES[local]))
    boolean = graph.value(response, MF.expectedBoolean)
    expected_body = _text(graph, response)
    content_type = dict((k.lower(), v) for k, v in _headers(graph, response)).get("content-type")
    text = _text(graph, request)
    return Step(
        str(graph.value(request, HT.methodName)),
        str(graph.value(request, HT.absolutePath)),
        _headers(graph, request),
        text[0].encode(text[1].lower()) if text else None,
        Expect(
            statuses,
            str(graph.value(response, MF.expectedFormat) or "") or None,
            None if boolean is None else bool(boolean.toPython()),
            content_type,
            expected_body[0] if expected_body else None,
            str(graph.value(response, MF.expectedLocation) or "") or None,
        ),
    )


def media_type(header: str | None) -> str:
    return (header or "").split(";", 1)[0].strip().lower()


def parse_boolean(content_type: str, body: bytes) -> bool:
    if content_type == "application/sparql-results+json":
        return bool(json.loads(body)["boolean"])
    root = ElementTree.fromstring(body)
    found = root.find("{http://www.w3.org/2005/sparql-results#}boolean")
    assert found is not None, body
    return found.text == "true"


def run(server, entry: Entry, prefixes: dict[str, str]) -> None:
    """Replay an entry's requests against ``server`` (a LiveServer), checking each response."""
    variables: dict[str, str] = {}
    for number, step in enumerate(entry.steps, 1):
        path = step.path
        body = step.body
        for name, value in variables.items():
            path = path.replace(name, value)
            body = body.replace(name.encode(), value.encode()) if body is not None else None
        for old, new in prefixes.items():
            if path.startswith(old):
                path = new + path[len(old) :]
                break
        headers = {"Host": entry.authority, "Authorization": f"Bearer {TOKEN}"}
        headers.update(step.headers)
        reply = server.request(step.method, path, body, headers)
        where = f"request {number} ({step.method} {path}) answered {reply.status}: {reply.body[:500]!r}"
        assert any(low <= reply.status <= high for low, high in step.expect.statuses), where
        kind = media_type(reply.headers.get("Content-Type"))
        if step.expect.format == "boolean":
            assert kind in BOOLEAN_TYPES, where
        elif step.expect.format == "tabular":
            assert kind in RESULT_TYPES, where
        elif step.expect.format == "RDF":
            assert kind in RDF_TYPES, where
            rdflib.Graph().parse(data=reply.body, format=RDF_TYPES[kind])
        if step.expect.boolean is not None:
            assert parse_boolean(kind, reply.body) is step.expect.boolean, where
        if step.expect.content_type is not None:
            assert kind == media_type(step.expect.content_type), where
        if step.expect.body is not None:
            expected_kind = media_type(step.expect.content_type) or "text/turtle"
            expected = rdflib.Graph().parse(data=step.expect.body, format=RDF_TYPES[expected_kind])
            actual = rdflib.Graph().parse(data=reply.body, format=RDF_TYPES[kind])
            assert isomorphic(expected, actual), f"{where}\nnot isomorphic to:\n{step.expect.body}"
        if step.expect.location is not None:
            location = reply.headers.get("Location")
            assert location, where
            variables[step.expect.location] = location


def reset(server) -> None:
    """Empty the store (every test starts from nothing)."""
    reply = server.request(
        "POST",
        "/sparql",
        "DROP ALL",
        {"Content-Type": "application/sparql-update", "Authorization": f"Bearer {TOKEN}"},
    )
    assert reply.status == 204, reply.body


def load_graph_data(server, entry: Entry) -> None:
    """The fixture graphs a test names (ut:graphData), PUT through the Graph Store endpoint."""
    for file, graph in entry.graph_data:
        reply = server.request(
            "PUT",
            f"/store?graph={graph}",
            file.read_bytes(),
            {"Content-Type": "application/n-triples", "Authorization": f"Bearer {TOKEN}"},
        )
        assert reply.status in (201, 204), reply.body


# The runner's own tests: it reads what the manifests hold.

needs_w3c = pytest.mark.skipif(not W3C.is_dir(), reason="the W3C manifests (../shared/w3c) are absent")


@needs_w3c
def test_the_protocol_manifest_has_34_tests_with_requests():
    entries = read_manifest(W3C / "protocol" / "manifest.ttl")
    assert len(entries) == 34
    assert all(entry.steps for entry in entries)
    dataset = next(e for e in entries if e.name == "query_dataset_full")
    assert [graph for _, graph in dataset.graph_data] == [
        f"http://kasei.us/2009/09/sparql/data/data{n}.rdf" for n in (1, 2, 3)
    ]


@needs_w3c
def test_the_graph_store_manifest_includes_direct_and_indirect_tests():
    entries = read_manifest(W3C / "graph-store-protocol" / "manifest.ttl")
    names = [entry.name for entry in entries]
    assert len(names) == len(set(names)) == 14  # 13 listed, and head_non_existing_direct defined only
    assert {"put_get_repeat_direct", "put_get_repeat_indirect", "post_get_new_graph"} <= set(names)
    assert names.index("head_non_existing_direct") == 4  # after the direct manifest's four
    creation = next(e for e in entries if e.name == "post_get_new_graph")
    assert creation.steps[0].expect.location == "$LOCATION$"
    assert creation.steps[1].path == "/gsp?graph=$LOCATION$"


@needs_w3c
def test_non_utf8_bodies_are_encoded_as_the_manifest_says():
    entries = read_manifest(W3C / "protocol" / "manifest.ttl")
    step = next(e for e in entries if e.name == "bad_query_non_utf8").steps[0]
    assert step.body == "ASK {}".encode("utf-16")
