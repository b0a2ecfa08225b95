"""The SPARQL 1.1 Graph Store HTTP Protocol at /store: read and write whole graphs.

A graph is named indirectly (``/store?graph=IRI``, ``/store?default``) or directly
(``/store/some/path`` is the graph whose IRI is that URL). GET and HEAD read it (404 if
it does not exist); PUT replaces it, POST adds to it (POST to /store itself creates a
graph with a new IRI, given in Location), DELETE removes it.

Every write is a submission through SHACL admission, whole or not at all: PUT admits the
body as the graph's new content, POST admits the graph's current content plus the body.
The body is read by the same RDF reader as ``mlg load`` (DOCTYPE in RDF/XML refused,
remote JSON-LD contexts not fetched, blank nodes skolemised); a GET turns the skolem
IRIs back into blank nodes, so what was PUT is what is read back, plus the super-classes
and super-properties admission materialises. Provenance is kept outside the graph, in
``mlg:provenanceGraph``.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import asdict, replace
from functools import partial
from pathlib import PurePath

from flask import Blueprint, Request, Response, request
from pyoxigraph import BlankNode, DefaultGraph, NamedNode, Triple, serialize

from mlg.admission import RESERVED_GRAPHS, Report, drop_graph
from mlg.errors import Forbidden, NotFoundError, UnsupportedMediaType, UsageError, ValidationFailed
from mlg.loaders import Request as LoaderRequest
from mlg.loaders.rdf import FORMATS as RDF_FORMATS
from mlg.server import inputs
from mlg.server.executor import Stream
from mlg.server.negotiation import GRAPHS, choose
from mlg.server.responses import empty_response
from mlg.server.state import ServerState
from mlg.server.writer import WriteSide
from mlg.store import GraphName, GraphStore
from mlg.submission import Record, Submission, sha256_digest
from mlg.vocab import PREFIXES

BODY_TYPES = {
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/n-triples": "ntriples",
    "application/ld+json": "jsonld",
    "application/rdf+xml": "rdfxml",
    "application/n-quads": "nquads",
    "application/trig": "trig",
}
_READERS = {f.name: f for f in RDF_FORMATS}
_BY_SUFFIX = {ext: f.name for f in RDF_FORMATS for ext in f.extensions}


def target(req: Request, path: str | None) -> GraphName | None:
    """The graph a request names; None for the endpoint itself (POST there creates a graph)."""
    fields = inputs.params(req.query_string, "the query string")
    graphs, default = inputs.values(fields, "graph"), inputs.values(fields, "default")
    if path is not None:
        if graphs or default:
            raise UsageError("a graph named by the URL path takes no ?graph= or ?default")
        return NamedNode(req.base_url)
    if len(graphs) + len(default) > 1:
        raise UsageError("name one graph: ?graph=IRI or ?default")
    if default:
        return DefaultGraph()
    if graphs:
        try:
            return NamedNode(graphs[0])
        except ValueError:
            raise UsageError(f"graph={graphs[0]!r} is not an absolute IRI") from None
    return None


def _name(graph: GraphName) -> str:
    return "the default graph" if isinstance(graph, DefaultGraph) else f"graph <{graph.value}>"


def _bodies(req: Request) -> list[tuple[str, bytes]]:
    """(reader name, bytes) of each RDF document the request carries."""
    mimetype, options = inputs.media_type(req.headers.get("Content-Type"))
    known = ", ".join(sorted(BODY_TYPES))
    if mimetype == "multipart/form-data":
        parts = []
        for storage in req.files.values():
            part_type = (storage.mimetype or "").lower()
            name = BODY_TYPES.get(part_type) or _BY_SUFFIX.get(
                PurePath(storage.filename or "").suffix.lower()
            )
            if name is None:
                raise UnsupportedMediaType(
                    f"part {storage.name!r} is {part_type or 'untyped'}; parts must be {known}"
                )
            if name != "rdfxml":
                inputs.check_charset(storage.mimetype_params, f"part {storage.name!r}")
            parts.append((name, storage.read()))
        if not parts:
            raise UsageError("the multipart body has no file parts")
        return parts
    name = BODY_TYPES.get(mimetype)
    if name is None:
        given = f"{mimetype} is not read here" if mimetype else "the request has no Content-Type"
        raise UnsupportedMediaType(f"{given}: send a graph as one of {known}, or multipart/form-data of them")
    if name != "rdfxml":  # XML declares its own encoding
        inputs.check_charset(options, "the body")
    return [(name, req.get_data())]


def _submission(
    state: ServerState, graph: GraphName, bodies: list[tuple[str, bytes]], *, adding: bool
) -> Submission:
    """One submission of every body (the loader checks and parses each), into ``graph``.

    The loader names blank nodes after its scope (``.well-known/genid/<scope>/b0``...): a
    PUT uses the graph's own, so putting the same document again changes nothing, while
    each POST and each part of a multipart body gets one of its own, so that their blank
    nodes stay apart as RDF merge wants.
    """
    source = graph.value if isinstance(graph, NamedNode) else "default graph"
    scope = f"{source}/{uuid.uuid4().hex}" if adding else source
    records: list[Record] = []
    for number, (name, data) in enumerate(bodies):
        part = scope if len(bodies) == 1 else f"{scope}/{number}"
        loaded = _READERS[name].load(LoaderRequest("request body", data, state.minter, part))
        records.extend(loaded.records())
    formats = sorted({name for name, _ in bodies})
    digest = sha256_digest(b"".join(data for _, data in bodies))
    # partial, not a lambda: the submission is pickled to the writer process
    return Submission(source, "+".join(formats), digest, partial(iter, records), "request body", graph=graph)


def commit_graph(side: WriteSide, submission: Submission, adding: bool) -> tuple[str, Report, bool]:
    """Admit ``submission`` as its graph's content, or (``adding``, a POST) added to it.

    A write function (:mod:`mlg.server.writer`); returns the admission's status and
    report, and whether the graph is new.
    """
    graph = submission.graph
    assert graph is not None
    created = not side.store.has_graph(graph)
    if adding and not created:
        submission = _merged(side.store, submission, graph)
    side.touched(graph)
    outcome = side.gate.admit(submission)
    return outcome.status, outcome.report, created


def remove_graph(side: WriteSide, graph: GraphName) -> bool:
    """Drop ``graph`` and its provenance; False if there is no such graph (a write function)."""
    side.touched(graph)
    return drop_graph(side.store, graph)


def _merged(store: GraphStore, submission: Submission, graph: GraphName) -> Submission:
    """The graph's current content plus the submission, grouped by subject (POST)."""
    by_subject: dict[object, Record] = {}
    for quad in store.graph_quads(graph):
        by_subject.setdefault(quad.subject, []).append(Triple(quad.subject, quad.predicate, quad.object))
    for record in submission.records():
        for triple in record:
            by_subject.setdefault(triple.subject, []).append(triple)
    records = list(by_subject.values())
    return replace(submission, records=partial(iter, records))


def _admitted(report: Report, created: bool, location: str | None = None) -> Response:
    """201 when the graph is new, else 204; 200 or 201 with the findings when there are warnings."""
    if not report.conforms:
        raise ValidationFailed(
            f"{report.counts()['Violation']} SHACL violation(s): nothing of this request was written",
            report=report,
        )
    headers = {"Location": location} if location else {}
    findings = report.findings
    if not findings:
        return empty_response(201 if created else 204, headers)
    body = {"findings": [asdict(finding) for finding in findings], "counts": report.counts()}
    return Response(
        json.dumps(body, ensure_ascii=False) + "\n",
        201 if created else 200,
        headers,
        mimetype="application/json",
    )


def _deskolemized(state: ServerState, graph: GraphName) -> Iterator[Triple]:
    """The graph's triples with skolem IRIs turned back into blank nodes (RDF 1.1 §3.5)."""
    genid = state.minter.base + ".well-known/genid/"

    def term(value: object) -> object:
        if isinstance(value, NamedNode) and value.value.startswith(genid):
            return BlankNode("b" + hashlib.sha256(value.value.encode()).hexdigest()[:32])
        return value

    for quad in state.store.graph_quads(graph):
        yield Triple(term(quad.subject), quad.predicate, term(quad.object))  # type: ignore[arg-type]


def graph_store_blueprint(state: ServerState) -> Blueprint:
    blueprint = Blueprint("graph_store", __name__)
    methods = ["GET", "HEAD", "PUT", "POST", "DELETE"]

    @blueprint.route("/store", methods=methods)
    @blueprint.route("/store/<path:path>", methods=methods)
    def graph_store(path: str | None = None) -> Response:
        graph = target(request, path)
        authorization = request.headers.get("Authorization")
        if request.method in ("GET", "HEAD"):
            state.tokens.require_read(authorization)
            request.environ["mlg.read"] = True
            return _read(state, graph)
        state.tokens.require_write(authorization)
        if graph in RESERVED_GRAPHS:
            raise Forbidden(f"{_name(graph)} is kept by mlg itself; write to another graph")  # type: ignore[arg-type]
        if request.method == "DELETE":
            return _delete(state, graph)
        if request.method == "PUT" and graph is None:
            raise UsageError("PUT needs a graph: /store?graph=IRI or /store?default")
        location = None
        if graph is None:  # POST to the endpoint: a new graph
            graph = state.minter.graph(uuid.uuid4().hex)
            location = graph.value
        adding = request.method == "POST"
        submission = _submission(state, graph, _bodies(request), adding=adding)
        _, report, created = state.write(commit_graph, submission, adding)
        return _admitted(report, created, location)

    return blueprint


def _read(state: ServerState, graph: GraphName | None) -> Response:
    if graph is None:
        raise UsageError("name a graph: /store?graph=IRI or /store?default")
    if not state.store.has_graph(graph):
        raise NotFoundError(f"there is no {_name(graph)}")
    rep = choose(request.headers.get("Accept"), GRAPHS, "a graph")
    headers = {"Vary": "Accept"}
    if request.method == "HEAD":
        return Response(status=200, content_type=rep.content_type, headers=headers)
    body = Stream(
        lambda pipe: serialize(_deskolemized(state, graph), pipe, rep.format, prefixes=PREFIXES),  # type: ignore[arg-type]
        content_type=rep.content_type,
    )
    return Response(body, content_type=rep.content_type, headers=headers)


def _delete(state: ServerState, graph: GraphName | None) -> Response:
    if graph is None:
        raise UsageError("DELETE needs a graph: /store?graph=IRI or /store?default")
    if not state.write(remove_graph, graph):
        raise NotFoundError(f"there is no {_name(graph)}")
    return empty_response(204)
