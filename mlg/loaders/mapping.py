"""The mapping every loader shares: attribute typing, edges, metrics, references.

A loader decides *what* an input says (this is a model version, trained on that
table); :class:`RecordWriter` decides *how* that becomes triples, so every format
types a timestamp, a metric or an owner the same way.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from typing import Any
from urllib.parse import quote

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
    "runState",
    "dataType",
    "task",
    "split",
    "contentDigest",
)
LIST_ATTRIBUTES = ("tag", "alias", "classification")
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
        "hasParameter",
        "parameterName",
        "parameterValue",
        "annotation",
    )
}
_CLASSES = {kind: mlg(local) for kind, local in KINDS.items()}
_METRIC = mlg("Metric")
_PARAMETER = mlg("Parameter")
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
    """Builds the records of a submission, one per node, through one shared mapping.

    An input may speak of one node many times (every OpenLineage event names its
    datasets again): all of it lands in that node's one record, a single-valued
    attribute keeps its last value, and repeated edges and tags are written once.
    Fields the ontology has no term for are kept as ``mlg:annotation`` (``key=value``)
    and counted in :attr:`warnings`, so the load summary says what was not mapped.
    """

    def __init__(self, minter: Minter) -> None:
        self.minter = minter
        self._nodes: dict[NamedNode, dict[tuple[Any, ...], Triple]] = {}
        self._subject: NamedNode | None = None
        self.warnings: Counter[str] = Counter()

    def node(self, iri: NamedNode, kind: str) -> NamedNode:
        """Describe a node of a kind (``model-version``...); the calls that follow describe it."""
        self._subject = iri
        self._add(Triple(iri, RDF_TYPE, _CLASSES[kind]), multi=True)
        return iri

    def attribute(self, name: str, value: Any, where: str) -> None:
        subject = self._require_subject()
        if value is None:
            return
        term = _TERMS[name]
        if name in TIME_ATTRIBUTES:
            self._add(Triple(subject, term, timestamp(value, where)))
        elif name in URL_ATTRIBUTES:
            self._add(Triple(subject, term, Literal(str(value), datatype=XSD_ANYURI)))
        elif name in LIST_ATTRIBUTES:
            values = value if isinstance(value, list) else [value]
            for index, item in enumerate(values):
                self._add(Triple(subject, term, text(item, f"{where}[{index}]")), multi=True)
        else:
            self._add(Triple(subject, term, text(value, where)))

    def edge(self, name: str, target: NamedNode) -> None:
        self._add(Triple(self._require_subject(), _TERMS[name], target), multi=True)

    def same_as(self, target: NamedNode) -> None:
        self._add(Triple(self._require_subject(), _SAME_AS, target), multi=True)

    def metric(self, name: str, value: Any, where: str) -> None:
        """A metric value measured by the current evaluation or run, as its own node."""
        subject = self._require_subject()
        metric = self.minter.metric(subject, name)
        self._add(Triple(subject, _TERMS["hasMetric"], metric), multi=True)
        self._add(Triple(metric, RDF_TYPE, _METRIC))
        self._add(Triple(metric, _TERMS["metricName"], Literal(str(name))))
        self._add(Triple(metric, _TERMS["metricValue"], number(value, where)))

    def parameter(self, name: str, value: Any, where: str) -> None:
        """A parameter or hyperparameter setting of the current node, as its own node."""
        subject = self._require_subject()
        setting = NamedNode(f"{subject.value}/parameters/{quote(str(name), safe='')}")
        self._add(Triple(subject, _TERMS["hasParameter"], setting), multi=True)
        self._add(Triple(setting, RDF_TYPE, _PARAMETER))
        self._add(Triple(setting, _TERMS["parameterName"], Literal(str(name))))
        if value is not None:
            rendered = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
            self._add(Triple(setting, _TERMS["parameterValue"], Literal(rendered)))

    def annotation(self, key: str, value: Any, *, warning: str | None = None) -> None:
        """Keep a source field the ontology has no term for, verbatim, as ``key=value``.

        ``warning`` names the kind of thing not mapped (``unknown facet``...): it is
        counted once per occurrence for the load summary.
        """
        subject = self._require_subject()
        rendered = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
        self._add(Triple(subject, _TERMS["annotation"], Literal(f"{key}={rendered}")), multi=True)
        if warning:
            self.warn(warning)

    def warn(self, kind: str) -> None:
        """Count something the input says that the graph does not keep or could not map."""
        self.warnings[kind] += 1

    def reference(self, iri: NamedNode, kind: str) -> NamedNode:
        """A node the input points at without describing it: it is typed, nothing more."""
        if iri not in self._nodes:
            self._nodes[iri] = {(RDF_TYPE, _CLASSES[kind]): Triple(iri, RDF_TYPE, _CLASSES[kind])}
        return iri

    def records(self) -> list[Record]:
        return [list(triples.values()) for triples in self._nodes.values()]

    def _add(self, triple: Triple, *, multi: bool = False) -> None:
        """Add to the record of the node being described; a single-valued attribute replaces."""
        owner = self._require_subject()
        key: tuple[Any, ...] = (triple.subject, triple.predicate)
        if multi:
            key += (triple.object,)
        self._nodes.setdefault(owner, {})[key] = triple

    def _require_subject(self) -> NamedNode:
        if self._subject is None:
            raise RuntimeError("RecordWriter.node() must be called before describing a node")
        return self._subject
