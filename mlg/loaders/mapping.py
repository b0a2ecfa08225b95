"""The mapping every loader shares: attribute typing, edges, metrics, references.

A loader decides *what* an input says (this is a model version, trained on that
table); :class:`RecordWriter` decides *how* that becomes triples, so every format
types a timestamp, a metric or an owner the same way.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from pyoxigraph import Literal, NamedNode, Triple

from mlg.errors import InputError
from mlg.identity import Minter
from mlg.loaders import Request
from mlg.submission import Record, Submission, sha256_digest
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
    value = float(value)
    if value != value or value in (math.inf, -math.inf):  # XML Schema spells them NaN, INF, -INF
        lexical = "NaN" if value != value else ("INF" if value > 0 else "-INF")
        return Literal(lexical, datatype=XSD_DOUBLE)
    return Literal(repr(value), datatype=XSD_DOUBLE)


@lru_cache(maxsize=1 << 16)
def _plain(value: str) -> Literal:
    """Kinds, types, registries and tags repeat across an input: build each literal once."""
    return Literal(value)


def text(value: Any, where: str) -> Literal:
    if isinstance(value, dict | list):
        raise InputError(f"expected text, got a {type(value).__name__}", where=where)
    return _plain(value if isinstance(value, str) else str(value))


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
        # node -> {key: (s, p, o)}; the key makes single-valued attributes replace and
        # repeated edges collapse; Triples are built once, in records().
        self._nodes: dict[NamedNode, dict[tuple[Any, ...], tuple[Any, Any, Any]]] = {}
        self._current: dict[tuple[Any, ...], tuple[Any, Any, Any]] | None = None
        self._subject: NamedNode | None = None
        self.warnings: Counter[str] = Counter()

    def node(self, iri: NamedNode, kind: str) -> NamedNode:
        """Describe a node of a kind (``model-version``...); the calls that follow describe it."""
        self._subject = iri
        self._current = self._nodes.setdefault(iri, {})
        self._add(iri, RDF_TYPE, _CLASSES[kind], multi=True)
        return iri

    def attribute(self, name: str, value: Any, where: str) -> None:
        subject = self._require_subject()
        if value is None:
            return
        term = _TERMS[name]
        if name in TIME_ATTRIBUTES:
            self._add(subject, term, timestamp(value, where))
        elif name in URL_ATTRIBUTES:
            self._add(subject, term, Literal(str(value), datatype=XSD_ANYURI))
        elif name in LIST_ATTRIBUTES:
            values = value if isinstance(value, list) else [value]
            for index, item in enumerate(values):
                self._add(subject, term, text(item, f"{where}[{index}]"), multi=True)
        else:
            self._add(subject, term, text(value, where))

    def edge(self, name: str, target: NamedNode) -> None:
        self._add(self._require_subject(), _TERMS[name], target, multi=True)

    def same_as(self, target: NamedNode) -> None:
        self._add(self._require_subject(), _SAME_AS, target, multi=True)

    def metric(self, name: str, value: Any, where: str) -> None:
        """A metric value measured by the current evaluation or run, as its own node."""
        subject = self._require_subject()
        metric = self.minter.metric(subject, name)
        self._add(subject, _TERMS["hasMetric"], metric, multi=True)
        self._add(metric, RDF_TYPE, _METRIC)
        self._add(metric, _TERMS["metricName"], Literal(str(name)))
        self._add(metric, _TERMS["metricValue"], number(value, where))

    def parameter(self, name: str, value: Any, where: str) -> None:
        """A parameter or hyperparameter setting of the current node, as its own node."""
        subject = self._require_subject()
        setting = self.minter.parameter(subject, str(name))
        self._add(subject, _TERMS["hasParameter"], setting, multi=True)
        self._add(setting, RDF_TYPE, _PARAMETER)
        self._add(setting, _TERMS["parameterName"], Literal(str(name)))
        if value is not None:
            rendered = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
            self._add(setting, _TERMS["parameterValue"], Literal(rendered))

    def annotation(self, key: str, value: Any, *, warning: str | None = None) -> None:
        """Keep a source field the ontology has no term for, verbatim, as ``key=value``.

        ``warning`` names the kind of thing not mapped (``unknown facet``...): it is
        counted once per occurrence for the load summary.
        """
        subject = self._require_subject()
        rendered = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
        self._add(subject, _TERMS["annotation"], Literal(f"{key}={rendered}"), multi=True)
        if warning:
            self.warn(warning)

    def warn(self, kind: str) -> None:
        """Count something the input says that the graph does not keep or could not map."""
        self.warnings[kind] += 1

    def reference(self, iri: NamedNode, kind: str) -> NamedNode:
        """A node the input points at without describing it: it is typed, nothing more."""
        if iri not in self._nodes:
            cls = _CLASSES[kind]
            self._nodes[iri] = {(iri, RDF_TYPE, cls): (iri, RDF_TYPE, cls)}
        return iri

    def records(self) -> list[Record]:
        return [[Triple(*spo) for spo in triples.values()] for triples in self._nodes.values()]

    def _add(self, subject: Any, predicate: NamedNode, value: Any, *, multi: bool = False) -> None:
        """Add to the record of the node being described; a single-valued attribute replaces."""
        key = (subject, predicate, value) if multi else (subject, predicate)
        self._current[key] = (subject, predicate, value)  # type: ignore[index]

    def _require_subject(self) -> NamedNode:
        if self._subject is None:
            raise RuntimeError("RecordWriter.node() must be called before describing a node")
        return self._subject


def submission(
    request: Request, format_name: str, writer: RecordWriter, extra: Iterable[Record] = ()
) -> Submission:
    """What a loader of one file returns, built the same way by every format: the writer's
    records (and ``extra`` ones after them) built once, the file's digest, the source
    ``--source`` or the location gives, and what the writer could not map."""
    records = writer.records() + list(extra)
    return Submission(
        source=request.default_source(),
        format=format_name,
        digest=sha256_digest(request.data),
        records=lambda: iter(records),
        location=request.location,
        warnings=dict(writer.warnings),
    )
