"""The mapping every loader shares: attribute typing, edges, metrics, references.

A loader decides *what* an input says (this is a model version, trained on that
table); :class:`RecordWriter` decides *how* that becomes triples, so every format
types a timestamp, a metric or an owner the same way.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pyoxigraph import Literal, NamedNode, Triple

from mlg.errors import InputError
from mlg.identity import Minter
from mlg.submission import Record
from mlg.vocab import KINDS, RDF_TYPE, XSD_ANYURI, XSD_DATETIME, XSD_DOUBLE, mlg

# Attributes a loader may set, by how their values are typed.
TEXT_ATTRIBUTES = (
    "name",
    "description",
    "version",
    "status",
    "stage",
    "license",
    "sourceRegistry",
    "sourceId",
    "namespace",
    "qualifiedName",
    "email",
)
LIST_ATTRIBUTES = ("tag",)
TIME_ATTRIBUTES = ("created", "modified", "startedAt", "endedAt")
URL_ATTRIBUTES = ("sourceUrl",)

# Edges a loader may write: the ontology's object properties, by local name.
EDGES = (
    "derivedFrom",
    "fineTunedFrom",
    "trainedOn",
    "usesFeature",
    "producedBy",
    "used",
    "evaluates",
    "evaluatedOn",
    "deploys",
    "dependsOn",
    "consumes",
    "versionOf",
    "previousVersion",
    "partOf",
    "ownedBy",
    "memberOf",
)

_TERMS = {
    name: mlg(name)
    for name in (
        *TEXT_ATTRIBUTES,
        *LIST_ATTRIBUTES,
        *TIME_ATTRIBUTES,
        *URL_ATTRIBUTES,
        *EDGES,
        "hasMetric",
        "metricName",
        "metricValue",
    )
}
_CLASSES = {kind: mlg(local) for kind, local in KINDS.items()}
_METRIC = mlg("Metric")
_SAME_AS = NamedNode("http://www.w3.org/2002/07/owl#sameAs")


def timestamp(value: Any, where: str) -> Literal:
    """An xsd:dateTime from an ISO 8601 string, a date, a datetime or epoch milliseconds."""
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            moment = dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC)
        except (ValueError, OverflowError, OSError):
            raise InputError(f"{value!r} milliseconds since 1970 is not a date", where=where) from None
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise InputError(f"{value!r} is not an ISO 8601 date-time", where=where) from None
    else:
        raise InputError(f"expected a date-time, got {type(value).__name__}", where=where)
    return Literal(moment.isoformat(), datatype=XSD_DATETIME)


def number(value: Any, where: str) -> Literal:
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            value = float(str(value))
        except ValueError:
            raise InputError(f"{value!r} is not a number", where=where) from None
    return Literal(repr(float(value)), datatype=XSD_DOUBLE)


def text(value: Any, where: str) -> Literal:
    if isinstance(value, dict | list):
        raise InputError(f"expected text, got a {type(value).__name__}", where=where)
    return Literal(str(value))


class RecordWriter:
    """Builds the records of a submission, one per node, through one shared mapping."""

    def __init__(self, minter: Minter) -> None:
        self.minter = minter
        self._records: list[Record] = []
        self._current: Record = []
        self._subject: NamedNode | None = None
        self._typed: set[NamedNode] = set()

    def node(self, iri: NamedNode, kind: str) -> NamedNode:
        """Start describing a node of a kind (``model-version``...); later calls describe it."""
        self._flush()
        self._subject = iri
        self._current = [Triple(iri, RDF_TYPE, _CLASSES[kind])]
        self._typed.add(iri)
        return iri

    def attribute(self, name: str, value: Any, where: str) -> None:
        subject = self._require_subject()
        if value is None:
            return
        term = _TERMS[name]
        if name in TIME_ATTRIBUTES:
            self._current.append(Triple(subject, term, timestamp(value, where)))
        elif name in URL_ATTRIBUTES:
            self._current.append(Triple(subject, term, Literal(str(value), datatype=XSD_ANYURI)))
        elif name in LIST_ATTRIBUTES:
            values = value if isinstance(value, list) else [value]
            for index, item in enumerate(values):
                self._current.append(Triple(subject, term, text(item, f"{where}[{index}]")))
        else:
            self._current.append(Triple(subject, term, text(value, where)))

    def edge(self, name: str, target: NamedNode) -> None:
        self._current.append(Triple(self._require_subject(), _TERMS[name], target))

    def same_as(self, target: NamedNode) -> None:
        self._current.append(Triple(self._require_subject(), _SAME_AS, target))

    def metric(self, name: str, value: Any, where: str) -> None:
        """A metric value measured by the current evaluation or run, as its own node."""
        subject = self._require_subject()
        metric = self.minter.metric(subject, name)
        self._current += [
            Triple(subject, _TERMS["hasMetric"], metric),
            Triple(metric, RDF_TYPE, _METRIC),
            Triple(metric, _TERMS["metricName"], Literal(str(name))),
            Triple(metric, _TERMS["metricValue"], number(value, where)),
        ]

    def reference(self, iri: NamedNode, kind: str) -> NamedNode:
        """A node the input points at without describing it: it is typed, nothing more."""
        if iri not in self._typed:
            self._typed.add(iri)
            self._records.append([Triple(iri, RDF_TYPE, _CLASSES[kind])])
        return iri

    def records(self) -> list[Record]:
        self._flush()
        return self._records

    def _require_subject(self) -> NamedNode:
        if self._subject is None:
            raise RuntimeError("RecordWriter.node() must be called before describing a node")
        return self._subject

    def _flush(self) -> None:
        if self._current:
            self._records.append(self._current)
        self._current = []
        self._subject = None
