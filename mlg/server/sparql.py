"""The SPARQL 1.1 Protocol at /sparql: queries, updates, and the service description.

- A query comes by GET (``?query=``), by URL-encoded POST, or by direct POST
  (``application/sparql-query``); an update by URL-encoded POST or direct POST
  (``application/sparql-update``) only. Exactly one query or update per request.
- ``default-graph-uri`` and ``named-graph-uri`` name a query's dataset and override
  its FROM and FROM NAMED clauses (Protocol §2.1.4); without them the default graph is
  the union of all graphs. ``using-graph-uri`` and ``using-named-graph-uri`` name an
  update's dataset and are written into each operation as USING clauses; an update
  that has USING or WITH itself may not be given them too (§2.2.3): 400.
- A GET without a query returns the service description.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Request, Response, request
from pyoxigraph import NamedNode

from mlg.errors import QueryError, UnsupportedMediaType, UsageError
from mlg.server import inputs
from mlg.server.access_log import note_evaluation, note_operation
from mlg.server.executor import QueryJob
from mlg.server.guard import Token
from mlg.server.negotiation import BOOLEAN, GRAPHS, SOLUTIONS, Representation, choose, negotiate
from mlg.server.responses import empty_response
from mlg.server.state import ServerState
from mlg.server.writer import run_update
from mlg.sparql import first_keyword

FORM = "application/x-www-form-urlencoded"
QUERY_TYPE = "application/sparql-query"
UPDATE_TYPE = "application/sparql-update"
_OFFERS = {"SELECT": SOLUTIONS, "ASK": BOOLEAN, "CONSTRUCT": GRAPHS, "DESCRIBE": GRAPHS}
_DATASET_PARAMS = {
    "query": ("default-graph-uri", "named-graph-uri"),
    "update": ("using-graph-uri", "using-named-graph-uri"),
}


@dataclass(frozen=True)
class Operation:
    kind: str
    """query or update."""
    text: str
    default_graph: tuple[str, ...]
    named_graphs: tuple[str, ...]

    @property
    def has_dataset(self) -> bool:
        return bool(self.default_graph or self.named_graphs)


def read_operation(req: Request) -> Operation | None:
    """The query or update a request carries, or None for a GET that asks for none."""
    fields = inputs.params(req.query_string, "the query string")
    if req.method == "GET":
        if inputs.values(fields, "update"):
            raise UsageError("an update must be sent by POST, not GET (SPARQL 1.1 Protocol §2.2)")
        if not inputs.values(fields, "query"):
            return None
    else:
        mimetype, options = inputs.media_type(req.headers.get("Content-Type"))
        if mimetype == FORM:
            fields += inputs.params(req.get_data(), "the form body")
        elif mimetype in (QUERY_TYPE, UPDATE_TYPE):
            body = inputs.text(req.get_data(), options, f"an {mimetype} body")
            fields.append(("query" if mimetype == QUERY_TYPE else "update", body))
        else:
            given = f"{mimetype} is not read here" if mimetype else "the request has no Content-Type"
            raise UnsupportedMediaType(
                f"{given}: POST a query as {QUERY_TYPE}, an update as {UPDATE_TYPE}, or either as {FORM}"
            )
    queries, updates = inputs.values(fields, "query"), inputs.values(fields, "update")
    if queries and updates:
        raise UsageError("a request carries a query or an update, not both")
    if len(queries) > 1 or len(updates) > 1:
        raise UsageError("a request carries one query or one update; this one has several")
    if not queries and not updates:
        raise UsageError(f"a POST needs a query or an update (parameter query= or update= in {FORM})")
    kind = "query" if queries else "update"
    other = "update" if kind == "query" else "query"
    for name in _DATASET_PARAMS[other]:
        if inputs.values(fields, name):
            raise UsageError(f"{name} is for an {other}, and this request is a {kind}")
    default_name, named_name = _DATASET_PARAMS[kind]
    return Operation(
        kind,
        (queries or updates)[0],
        tuple(_iri(v, default_name) for v in inputs.values(fields, default_name)),
        tuple(_iri(v, named_name) for v in inputs.values(fields, named_name)),
    )


def _iri(value: str, name: str) -> str:
    try:
        return NamedNode(value).value
    except ValueError:
        raise UsageError(f"{name}={value!r} is not an absolute IRI") from None


def with_dataset(text: str, tokens: list[Token], default: tuple[str, ...], named: tuple[str, ...]) -> str:
    """The update with the protocol's dataset written in as USING clauses.

    Each operation with a WHERE clause gets them; the short form ``DELETE WHERE { P }``
    becomes ``DELETE { P } USING ... WHERE { P }``, which means the same.

    >>> from mlg.server.guard import tokenize
    >>> text = "DELETE WHERE { ?s ?p ?o } ; INSERT { ?s a <http://e/C> } WHERE { ?s ?p ?o }"
    >>> for operation in with_dataset(text, tokenize(text), ("http://e/g",), ()).split(" ; "):
    ...     print(operation)
    DELETE { ?s ?p ?o } USING <http://e/g> WHERE { ?s ?p ?o }
    INSERT { ?s a <http://e/C> } USING <http://e/g> WHERE { ?s ?p ?o }
    """
    for token in tokens:
        if token.keyword in ("USING", "WITH"):
            raise QueryError(
                f"the update names its dataset with {token.keyword}, so the request may not name one "
                "with using-graph-uri or using-named-graph-uri too (SPARQL 1.1 Protocol §2.2.3)"
            )
    clause = " ".join(
        [f"USING {NamedNode(g)}" for g in default] + [f"USING NAMED {NamedNode(g)}" for g in named]
    )
    edits: list[tuple[int, int, str]] = []
    for index, token in enumerate(tokens):
        if token.depth or token.keyword != "WHERE":
            continue
        before = tokens[index - 1] if index else None
        if before is not None and before.keyword == "DELETE":
            opening = tokens[index + 1] if index + 1 < len(tokens) else None
            closing = next(
                (t for t in tokens[index + 2 :] if t.kind == "close" and t.depth == 0),
                None,
            )
            if opening is None or opening.text != "{" or closing is None:
                continue  # malformed: the parser will say so
            pattern = text[opening.start : closing.start + 1]
            edits.append((token.start, closing.start + 1, f"{pattern} {clause} WHERE {pattern}"))
        else:
            edits.append((token.start, token.start, f"{clause} "))
    for start, end, replacement in reversed(edits):
        text = text[:start] + replacement + text[end:]
    return text


def sparql_blueprint(state: ServerState) -> Blueprint:
    blueprint = Blueprint("sparql", __name__)

    @blueprint.route("/sparql", methods=["GET", "POST"])
    def sparql() -> Response:
        authorization = request.headers.get("Authorization")
        operation = read_operation(request)
        if operation is None or operation.kind == "query":
            state.tokens.require_read(authorization)
            request.environ["mlg.read"] = True
        if operation is None:
            return _description(state)
        kind = "UPDATE" if operation.kind == "update" else first_keyword(operation.text) or "QUERY"
        note_operation(request.environ, kind, operation.text)
        if operation.kind == "query":
            return _query(state, operation)
        state.tokens.require_write(authorization)
        tokens = state.inspect(operation.text)
        text = operation.text
        if operation.has_dataset:
            text = with_dataset(text, tokens, operation.default_graph, operation.named_graphs)
        note_evaluation(request.environ)
        state.write(run_update, text, request.base_url)
        return empty_response(204)

    return blueprint


def _query(state: ServerState, operation: Operation) -> Response:
    tokens = state.inspect(operation.text)
    accept = request.headers.get("Accept")
    job = QueryJob(
        operation.text,
        base_iri=request.base_url,
        default_graph=operation.default_graph if operation.has_dataset else None,
        named_graphs=operation.named_graphs if operation.has_dataset else None,
        union=not any(token.keyword == "FROM" for token in tokens),
        solutions=_content_type(negotiate(accept, SOLUTIONS)),
        boolean=_content_type(negotiate(accept, BOOLEAN)),
        graph=_content_type(negotiate(accept, GRAPHS)),
    )
    form = first_keyword(operation.text)
    if form in _OFFERS:  # a 406 before running the query, when its form tells
        choose(accept, _OFFERS[form], f"a {form} result")
    note_evaluation(request.environ)
    answer = state.executor.query(job)
    headers = {"Vary": "Accept", **answer.headers}
    return Response(answer.body, content_type=answer.content_type, headers=headers)


def _content_type(rep: Representation | None) -> str | None:
    return rep.content_type if rep is not None else None


def _description(state: ServerState) -> Response:
    rep = choose(request.headers.get("Accept"), GRAPHS, "the service description")
    body = state.description.document(
        request.base_url, rep, updates=state.tokens.writable, federation=bool(state.policy.allow)
    )
    return Response(body, content_type=rep.content_type, headers={"Vary": "Accept"})
