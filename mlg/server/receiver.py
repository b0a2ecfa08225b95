"""The OpenLineage receiver at POST /api/v1/lineage: Marquez's path, openlineage-python's
``HttpTransport`` (one JSON event a request, ``Authorization: Bearer <api key>``).

A write like any other: it needs the update token. The event is checked by the loader's
:func:`~mlg.loaders.openlineage.validate_event` (400 naming the JSON path), mapped by its
:func:`~mlg.loaders.openlineage.events_submission` and admitted through the Gate (422 with
the findings on a SHACL violation); on any error the store is unchanged.

The events of one run accumulate: the submission's source is ``openlineage/run/<runId>``,
and its graph keeps the raw events it was made from (each a ``prov:value`` literal of
datatype ``rdf:JSON`` on ``<graph>#event-N``). Each new event is admitted together with the
run's earlier ones, so START then COMPLETE leaves the run completed with both times. A job
or dataset event without a run is a submission of its own. The same event sent twice
changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, replace
from functools import partial
from typing import Any

from flask import Blueprint, Response, request
from pyoxigraph import Literal, NamedNode, Triple

from mlg.admission import Report
from mlg.errors import InputError, UnsupportedMediaType, ValidationFailed
from mlg.loaders.openlineage import events_submission, validate_event
from mlg.server import inputs
from mlg.server.state import ServerState
from mlg.server.writer import WriteSide
from mlg.store import GraphStore
from mlg.submission import Submission, sha256_digest

PROV_VALUE = NamedNode("http://www.w3.org/ns/prov#value")
RDF_JSON = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON")
WHERE = "request body"


def _canonical(event: Any) -> str:
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _source(event: dict[str, Any], text: str) -> str:
    run = event.get("run")
    if isinstance(run, dict) and isinstance(run.get("runId"), str):
        return f"openlineage/run/{run['runId'].lower()}"
    return f"openlineage/event/{hashlib.sha256(text.encode()).hexdigest()[:32]}"


def stored_events(store: GraphStore, graph: NamedNode) -> list[str]:
    """The raw events a run's graph was made from, in the order they came."""
    rows = store.query(f"SELECT ?e ?v WHERE {{ GRAPH {graph} {{ ?e {PROV_VALUE} ?v }} }}")
    found = [(row["e"].value, row["v"].value) for row in rows]
    return [value for _, value in sorted(found, key=lambda ev: int(ev[0].rpartition("-")[2]))]


def _with_events(submission: Submission, graph: NamedNode, events: list[str]) -> Submission:
    kept = [
        Triple(NamedNode(f"{graph.value}#event-{n}"), PROV_VALUE, Literal(text, datatype=RDF_JSON))
        for n, text in enumerate(events)
    ]
    loaded = list(submission.records())
    records = [*loaded, kept]
    return replace(submission, records=partial(iter, records))


def admit_event(side: WriteSide, text: str, source: str, graph: NamedNode) -> tuple[str, int, Report]:
    """Admit the run's events with ``text`` added (a write function: see :mod:`mlg.server.writer`).

    Returns the admission's status (``unchanged`` when the event was there already), the
    number of events, and the report.
    """
    events = stored_events(side.store, graph)
    if text in events:
        return "unchanged", len(events), Report()
    events.append(text)
    parsed = [json.loads(e) for e in events]
    digest = sha256_digest("\n".join(events).encode())
    submission = events_submission(parsed, minter=side.minter, source=source, location=WHERE, digest=digest)
    side.touched(graph)
    outcome = side.gate.admit(_with_events(submission, graph, events))
    return outcome.status, len(events), outcome.report


def _event(data: bytes) -> dict[str, Any]:
    try:
        event = json.loads(data)
    except UnicodeDecodeError:
        raise InputError("not UTF-8", where=WHERE) from None
    except json.JSONDecodeError as error:
        raise InputError(
            f"not JSON: {error.msg} at line {error.lineno}, column {error.colno}", where=WHERE
        ) from None
    except RecursionError:
        raise InputError("JSON nested too deeply", where=WHERE) from None
    if not isinstance(event, dict):
        raise InputError("send one OpenLineage event, a JSON object", where=WHERE)
    return event


def receiver_blueprint(state: ServerState) -> Blueprint:
    blueprint = Blueprint("openlineage", __name__)

    @blueprint.route("/api/v1/lineage", methods=["POST"])
    def receive() -> Response:
        """Admit one OpenLineage event (run, job or dataset event)."""
        state.tokens.require_write(request.headers.get("Authorization"))
        mimetype, options = inputs.media_type(request.headers.get("Content-Type"))
        if mimetype not in ("application/json", ""):
            raise UnsupportedMediaType(f"{mimetype} is not read here: send one event as application/json")
        inputs.check_charset(options, "the body")
        event = _event(request.get_data())
        validate_event(event, WHERE)
        text = _canonical(event)
        source = _source(event, text)
        graph = state.minter.graph(source)
        status, events, report = state.write(admit_event, text, source, graph)
        if not report.conforms:
            raise ValidationFailed(
                f"{report.counts()['Violation']} SHACL violation(s): the event was not admitted",
                report=report,
            )
        findings = [asdict(f) for f in report.findings]
        return _answer(201 if status == "admitted" else 200, source, graph, status, events, findings)

    return blueprint


def _answer(
    status: int, source: str, graph: NamedNode, outcome: str, events: int, findings: list
) -> Response:
    body = {"source": source, "graph": graph.value, "status": outcome, "events": events}
    if findings:
        body["findings"] = findings
    return Response(json.dumps(body, ensure_ascii=False) + "\n", status, mimetype="application/json")
