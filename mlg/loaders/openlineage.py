"""OpenLineage events: the lineage schedulers and engines emit as their jobs run.

Reads what openlineage-python's ``FileTransport`` writes (one event a line), a JSON
array of events, or one event. Each event is checked against mlg's own JSON Schema of
the OpenLineage object model (``openlineage-event.schema.json``, compiled once with
fastjsonschema), then mapped through one :class:`RecordWriter`::

    output dataset --producedBy--> job --used--> input dataset   (the lineage: a job stands for its runs)
    run --partOf--> job, run --used--> input dataset (or the dataset version it read)
    output dataset version --producedBy--> run
    field --partOf--> dataset, output field --derivedFrom--> input field   (column lineage)

A dataset does not collect one ``producedBy`` edge per run: a table written daily would
otherwise have thousands, and its upstream lineage would list every run. Many events
about one job, dataset or run merge into that node's one record.

The HTTP receiver (``POST /api/v1/lineage``) reuses :func:`validate_event` and
:func:`events_submission`, so a file and a request are read by the same rules.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import fastjsonschema
from pyoxigraph import NamedNode

from mlg.errors import InputError
from mlg.identity import Minter
from mlg.loaders import Format, Request
from mlg.loaders.documents import parse_json
from mlg.loaders.mapping import RecordWriter
from mlg.submission import Record, Submission, sha256_digest

FORMAT = "openlineage"
SCHEMA_FILE = "openlineage-event.schema.json"
EXTENSIONS = (".json", ".jsonl", ".ndjson")

# fastjsonschema knows neither uuid nor RFC 3339 exactly: a time zone is required, and
# a leap second (:60), which Python cannot represent, is refused here rather than later.
_FORMATS = {
    "uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z",
    "date-time": r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:[0-5]\d"
    r"(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)\Z",
}
_OBJECT = {"type": "object"}
_MISSING = object()

RUN_STATES = {
    "START": "running",
    "RUNNING": "running",
    "COMPLETE": "completed",
    "FAIL": "failed",
    "ABORT": "aborted",
}
_ENDED = {"completed", "failed", "aborted"}

_EVENT_KEYS = {
    "eventType",
    "eventTime",
    "producer",
    "schemaURL",
    "run",
    "job",
    "inputs",
    "outputs",
    "dataset",
}
_DATASET_KEYS = {"namespace", "name", "facets", "inputFacets", "outputFacets"}


# ---------------------------------------------------------------- validation


class _Validators:
    """The schema's definitions compiled into the validators one event needs.

    Datasets and jobs come back in event after event with the same facets, so the facets
    of a dataset or job are validated apart from the rest of the event, and only when
    they differ from the last ones validated for it: the envelope, run, job and datasets
    are checked with their facets as plain objects.
    """

    def __init__(self) -> None:
        text = resources.files("mlg.loaders").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
        self.definitions = json.loads(text)["definitions"]
        facets_apart = {"DatasetFacets": _OBJECT, "JobFacets": _OBJECT}
        self._shallow = {name: _replace_refs(d, facets_apart) for name, d in self.definitions.items()}
        parts = dict.fromkeys(("Run", "Job", "Dataset", "InputDataset", "OutputDataset"), _OBJECT)
        self.envelope = {
            kind: self._compile(_replace_refs(self.definitions[name], parts))
            for kind, name in (("run", "RunEvent"), ("job", "JobEvent"), ("dataset", "DatasetEvent"))
        }
        self.run = self._compile({"$ref": "#/definitions/Run"})
        self.job = self._compile({"$ref": "#/definitions/Job"}, shallow=True)
        self.job_facets = self._compile({"$ref": "#/definitions/JobFacets"})
        self.inputs = self._compile({"$ref": "#/definitions/InputDataset"}, shallow=True)
        self.outputs = self._compile({"$ref": "#/definitions/OutputDataset"}, shallow=True)
        self.dataset = self._compile({"$ref": "#/definitions/Dataset"}, shallow=True)
        self.dataset_facets = self._compile({"$ref": "#/definitions/DatasetFacets"})

    def _compile(self, root: dict[str, Any], *, shallow: bool = False) -> Callable[..., Any]:
        definitions = self._shallow if shallow else self.definitions
        return fastjsonschema.compile({**root, "definitions": definitions}, formats=_FORMATS)


def _replace_refs(node: Any, replacements: dict[str, Any]) -> Any:
    if isinstance(node, dict):
        target = str(node.get("$ref", "")).rpartition("/")[2]
        if target in replacements:
            return replacements[target]
        return {key: _replace_refs(value, replacements) for key, value in node.items()}
    if isinstance(node, list):
        return [_replace_refs(item, replacements) for item in node]
    return node


@cache
def _validators() -> _Validators:
    return _Validators()


def _event_kind(event: dict[str, Any]) -> str:
    if "run" in event:
        return "run"
    if "dataset" in event and "job" not in event:
        return "dataset"
    if "job" in event:
        return "job"
    raise InputError(
        "not an OpenLineage event: a run event needs 'run' and 'job', a job event 'job', "
        "a dataset event 'dataset'"
    )


class EventValidator:
    """Checks events against the schema; remembers the jobs and datasets it has already checked."""

    def __init__(self) -> None:
        self._checked: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.compared: dict[int, tuple[Any, bool]] = {}
        """For the jobs and datasets of the last event, and their facets (by ``id``): the
        object checked before under the same name, and whether they are equal. The mapping
        compares with the same objects, so it reuses the verdicts."""

    def __call__(self, event: Any, where: str) -> None:
        self.compared = {}
        if not isinstance(event, dict):
            raise InputError(f"an event must be a JSON object, not {_json_type(event)}", where=where)
        exception = fastjsonschema.JsonSchemaValueException
        try:
            self._check(event)
        except exception as error:
            path, message = _explain(error)
            raise InputError(message, where=f"{where}: {path}" if path else where) from None
        except InputError as error:
            raise InputError(error.message, where=where) from None

    def _check(self, event: dict[str, Any]) -> None:
        validators = _validators()
        kind = _event_kind(event)
        validators.envelope[kind](event)
        if kind == "run":
            self._run(event["run"], validators.run)
        if kind == "dataset":
            self._node("dataset", event["dataset"], "dataset", validators.dataset, validators.dataset_facets)
            return
        self._node("job", event["job"], "job", validators.job, validators.job_facets)
        for role, validate in (("inputs", validators.inputs), ("outputs", validators.outputs)):
            for index, dataset in enumerate(event.get(role) or ()):
                self._node(role, dataset, f"{role}[{index}]", validate, validators.dataset_facets)

    def _run(self, run: Any, validate: Callable[..., Any]) -> None:
        """A run is checked once when its events repeat it unchanged (START, then COMPLETE)."""
        run_id = run.get("runId") if isinstance(run, dict) else None
        if isinstance(run_id, str) and self._checked.get(("run", run_id, "")) == run:
            return
        validate(run, name_prefix="run")
        self._checked[("run", run["runId"], "")] = run

    def _node(
        self,
        role: str,
        node: Any,
        place: str,
        validate: Callable[..., Any],
        validate_facets: Callable[..., Any],
    ) -> None:
        """A job or dataset equal to the last one checked under its name is not checked again,
        nor are its facets when only the rest of it changed."""
        key = None
        if (
            isinstance(node, dict)
            and isinstance(node.get("namespace"), str)
            and isinstance(node.get("name"), str)
        ):
            key = (role, node["namespace"], node["name"])
        previous = self._checked.get(key) if key else None
        facets = node.get("facets") if isinstance(node, dict) else None
        if previous is not None:
            # The facets first, and once: an output differs from its previous event's
            # often only by its output facets (statistics), and its facets are the bulk.
            facets_same = previous.get("facets") == facets
            if isinstance(facets, dict):
                self.compared[id(facets)] = (previous.get("facets"), facets_same)
            same = facets_same and len(previous) == len(node)
            same = same and all(previous.get(k, _MISSING) == v for k, v in node.items() if k != "facets")
            self.compared[id(node)] = (previous, same)
            if same:
                return
            if facets_same:
                facets = None
        validate(node, name_prefix=place)
        if facets:
            validate_facets(facets, name_prefix=f"{place}.facets")
        if key:
            self._checked[key] = node


def validate_event(event: dict[str, Any], where: str) -> None:
    """Raise an :class:`InputError` naming ``where`` and the JSON path if ``event`` is not a
    valid OpenLineage run, job or dataset event."""
    EventValidator()(event, where)


_TYPES = {"array": "a list", "object": "an object", "string": "text", "boolean": "true or false"}
_FORMAT_HINTS = {
    "uuid": "a UUID",
    "date-time": "an RFC 3339 date-time with a time zone, such as 2026-01-31T12:00:00Z",
    "uri": "a URI, such as https://github.com/org/repo",
}


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "text"
    return "null" if value is None else type(value).__name__


def _explain(error: Any) -> tuple[str, str]:
    """(JSON path, what is wrong) from a fastjsonschema error, in words."""
    path = str(error.name or "").removeprefix("data").lstrip(".")
    value = error.value
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    if error.rule == "required" and isinstance(value, dict):
        missing = [key for key in error.rule_definition if key not in value]
        return (f"{path}.{missing[0]}" if path else missing[0]), "is missing (required)"
    if error.rule == "type":
        wanted = _TYPES.get(error.rule_definition, str(error.rule_definition))
        return path, f"must be {wanted}, not {_json_type(value)}"
    if error.rule == "format":
        return path, f"must be {_FORMAT_HINTS.get(error.rule_definition, error.rule_definition)}, not {shown}"
    if error.rule == "enum":
        return path, f"must be one of {', '.join(map(str, error.rule_definition))}, not {shown}"
    if error.rule == "minLength":
        return path, "must not be empty"
    return path, str(error.message).removeprefix("data").lstrip(". ")


# ---------------------------------------------------------------- mapping


def _facet_fields(facet: dict[str, Any]) -> dict[str, Any]:
    """A facet's own fields: without the envelope (_producer, _schemaURL) and empty values."""
    return {k: v for k, v in facet.items() if not k.startswith("_") and v not in (None, "", [], {})}


def _moment(value: str, where: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(value.upper())  # 2026-01-31t12:00:00z
    except ValueError:
        raise InputError(f"{value!r} is not a date-time that exists", where=where) from None


def _namespace_key(namespace: str) -> str:
    """A dataset namespace as :func:`mlg.identity.split_dataset_uri` writes it (scheme and
    authority in lower case), so that ``S3://Bucket`` here and ``s3://bucket/key`` in
    another format name one dataset."""
    scheme, sep, rest = namespace.partition("://")
    if sep and "/" not in rest:
        return f"{scheme.lower()}://{rest.lower()}"
    return namespace


def _source_id(namespace: str, name: str) -> str:
    return f"{namespace}/{name}"


class _Mapper:
    """Maps validated events into one :class:`RecordWriter`.

    Constant facts about a node (its name, namespace, registry) are written once, and a
    facet is mapped again only when it differs from the last one mapped for its node: a
    single-valued attribute then ends with the value of the last facet, as it would if
    every event were mapped in full, and the thousandth event about a table costs a
    comparison.
    """

    def __init__(self, minter: Minter) -> None:
        self.minter = minter
        self.writer = RecordWriter(minter)
        self._iris: dict[tuple[str, str, str], NamedNode] = {}
        self._described: set[NamedNode] = set()
        self._facets: dict[tuple[NamedNode, str], Any] = {}
        self._last: dict[NamedNode, dict[str, Any]] = {}
        self.compared: dict[int, tuple[Any, bool]] = {}
        """Set from :attr:`EventValidator.compared` before each event, when it was validated."""
        self._written: set[tuple[NamedNode, str, Any]] = set()
        self._states: dict[NamedNode, tuple[int, dt.datetime, str]] = {}
        self._started: dict[NamedNode, dt.datetime] = {}
        self._subject: NamedNode | None = None

    # -- writing -----------------------------------------------------------------

    def on(self, iri: NamedNode, kind: str) -> RecordWriter:
        """The writer, describing ``iri`` (switching nodes only when it changes)."""
        if iri is not self._subject:
            self.writer.node(iri, kind)
            self._subject = iri
        return self.writer

    def set(self, iri: NamedNode, kind: str, attribute: str, value: Any, where: str = "") -> None:
        if value is not None:
            self.on(iri, kind).attribute(attribute, value, where or iri.value)

    def edge(self, source: NamedNode, kind: str, edge: str, target: NamedNode) -> None:
        key = (source, edge, target)
        if key not in self._written:
            self._written.add(key)
            self.on(source, kind).edge(edge, target)

    def annotate(self, iri: NamedNode, kind: str, key: str, value: Any, warning: str | None = None) -> None:
        self.on(iri, kind).annotation(key, value, warning=warning)

    def annotate_once(self, iri: NamedNode, kind: str, key: str, value: str) -> None:
        if (iri, key, value) not in self._written:
            self._written.add((iri, key, value))
            self.annotate(iri, kind, key, value)

    def unknown_keys(
        self, iri: NamedNode, kind: str, node: dict[str, Any], known: set[str], what: str
    ) -> None:
        if not node.keys() <= known:
            for key in node.keys() - known:
                self.annotate(iri, kind, key, node[key], warning=what)

    # -- nodes -------------------------------------------------------------------

    def iri(self, kind: str, namespace: str, name: str) -> NamedNode:
        key = (kind, namespace, name)
        iri = self._iris.get(key)
        if iri is None:
            iri = self._iris[key] = self.minter.qualified(kind, namespace, name)
        return iri

    def describe(self, iri: NamedNode, kind: str, name: str, source_id: str, **attributes: str) -> bool:
        """The constant facts of a node, once: its name, source, OpenLineage identity.
        True the first time."""
        if iri in self._described:
            return False
        self._described.add(iri)
        write = self.on(iri, kind)
        write.attribute("name", name, source_id)
        write.attribute("sourceRegistry", FORMAT, source_id)
        write.attribute("sourceId", source_id, source_id)
        for attribute, value in attributes.items():
            write.attribute(attribute, value, source_id)
        return True

    def dataset_node(self, namespace: str, name: str) -> NamedNode:
        iri = self._iris.get(("dataset", namespace, name))
        if iri is None:
            iri = self._iris["dataset", namespace, name] = self.minter.dataset(
                _namespace_key(namespace), name
            )
        if iri not in self._described:
            source_id = _source_id(namespace, name)
            self.describe(iri, "dataset", name, source_id, namespace=namespace, qualifiedName=name)
        return iri

    def job_node(self, job: dict[str, Any]) -> NamedNode:
        namespace, name = job["namespace"], job["name"]
        iri = self.iri("job", namespace, name)
        if iri not in self._described:
            source_id = _source_id(namespace, name)
            self.describe(iri, "job", name, source_id, namespace=namespace, qualifiedName=name)
        return iri

    def run_node(self, run_id: str, job_name: str, job: NamedNode) -> NamedNode:
        iri = self._iris.get(("run", run_id, ""))
        if iri is None:
            normal = run_id.lower()
            iri = self._iris["run", run_id, ""] = self.minter.asset("run", normal)
            if self.describe(iri, "run", f"{job_name} run {normal}", normal):
                self.edge(iri, "run", "partOf", job)
        return iri

    def field_node(self, dataset: NamedNode, namespace: str, name: str, path: str) -> NamedNode:
        iri = self.minter.field(dataset, path)
        if self.describe(iri, "field", path, f"{_source_id(namespace, name)}#{path}"):
            self.edge(iri, "field", "partOf", dataset)
        return iri

    def version_node(self, dataset: NamedNode, name: str, source_id: str, version: str) -> NamedNode:
        iri = self.minter.version(dataset, version)
        label, version_id = f"{name}@{version}", f"{source_id}@{version}"
        if self.describe(iri, "dataset-version", label, version_id, version=version):
            self.edge(iri, "dataset-version", "versionOf", dataset)
        return iri

    # -- events ------------------------------------------------------------------

    def event(self, event: dict[str, Any], where: str) -> None:
        kind = _event_kind(event)
        if kind == "dataset":
            iri = self.dataset(event["dataset"])
            self.annotate_once(iri, "dataset", "producer", event["producer"])
            self.unknown_keys(iri, "dataset", event, _EVENT_KEYS, "unknown event field")
            return
        job = self.job(event["job"])
        self.annotate_once(job, "job", "producer", event["producer"])
        run = self.run(event, job, where) if kind == "run" else None
        if run:
            self.unknown_keys(run, "run", event, _EVENT_KEYS, "unknown event field")
        else:
            self.unknown_keys(job, "job", event, _EVENT_KEYS, "unknown event field")
        for dataset in event.get("inputs") or ():
            iri = self.dataset(dataset)
            self.edge(job, "job", "used", iri)
            if run:
                self.edge(run, "run", "used", self.version(dataset, iri) or iri)
                self.io_facets(run, dataset, "inputFacets")
        for dataset in event.get("outputs") or ():
            iri = self.dataset(dataset)
            self.edge(iri, "dataset", "producedBy", job)
            if run:
                version = self.version(dataset, iri)
                if version:
                    self.edge(version, "dataset-version", "producedBy", run)
                self.io_facets(run, dataset, "outputFacets")

    def run(self, event: dict[str, Any], job: NamedNode, where: str) -> NamedNode:
        run_object = event["run"]
        run = self.run_node(run_object["runId"], event["job"]["name"], job)
        self.unknown_keys(run, "run", run_object, {"runId", "facets"}, "unknown field")
        moment = _moment(event["eventTime"], f"{where}: eventTime")
        event_type = event.get("eventType") or "OTHER"
        if event_type == "START" and (run not in self._started or moment < self._started[run]):
            self._started[run] = moment
        state = RUN_STATES.get(event_type)  # OTHER keeps the state the run had
        if state:
            # A late RUNNING or START never reopens an ended run; among equals, the later time wins.
            rank = (2 if state in _ENDED else 1, moment, state)
            if run not in self._states or rank[:2] >= self._states[run][:2]:
                self._states[run] = rank
        self.facets(run, "run", run_object.get("facets"), _RUN_FACETS)
        return run

    def same(self, node: Any, last: Any) -> bool:
        """``node == last``, or the validator's verdict when it compared with ``last`` itself."""
        verdict = self.compared.get(id(node))
        if verdict is not None and verdict[0] is last:
            return verdict[1]
        return bool(node == last)

    def changed(self, iri: NamedNode, node: dict[str, Any]) -> bool:
        """Whether ``node`` differs from the last job or dataset mapped as ``iri``."""
        last = self._last.get(iri)
        if last is not None and self.same(node, last):
            return False
        self._last[iri] = node
        return True

    def job(self, job: dict[str, Any]) -> NamedNode:
        iri = self.job_node(job)
        if self.changed(iri, job):
            self.unknown_keys(iri, "job", job, {"namespace", "name", "facets"}, "unknown field")
            self.facets(iri, "job", job.get("facets"), _JOB_FACETS)
        return iri

    def dataset(self, dataset: dict[str, Any]) -> NamedNode:
        iri = self.dataset_node(dataset["namespace"], dataset["name"])
        if self.changed(iri, dataset):
            self.unknown_keys(iri, "dataset", dataset, _DATASET_KEYS, "unknown field")
            self.facets(iri, "dataset", dataset.get("facets"), _DATASET_FACETS, dataset)
        return iri

    def version(self, dataset: dict[str, Any], iri: NamedNode) -> NamedNode | None:
        facet = (dataset.get("facets") or {}).get("datasetVersion") or {}
        version = facet.get("datasetVersion")
        if not version or facet.get("_deleted"):
            return None
        source_id = _source_id(dataset["namespace"], dataset["name"])
        return self.version_node(iri, dataset["name"], source_id, version)

    def io_facets(self, run: NamedNode, dataset: dict[str, Any], key: str) -> None:
        """Input and output facets (statistics, quality checks) belong to one run: kept on it."""
        for name, facet in (dataset.get(key) or {}).items():
            fields = _facet_fields(facet)
            if fields:
                label = f"{key}.{name}[{_source_id(dataset['namespace'], dataset['name'])}]"
                self.annotate(run, "run", label, fields, warning="unknown facet")

    def finish(self) -> list[Record]:
        """The records, once each run's state and times are settled by all its events."""
        for run in dict.fromkeys([*self._started, *self._states]):
            self.set(run, "run", "startedAt", self._started.get(run))
            if run in self._states:
                _, moment, state = self._states[run]
                self.set(run, "run", "runState", state)
                if state in _ENDED:
                    self.set(run, "run", "endedAt", moment)
        return self.writer.records()

    # -- facets ------------------------------------------------------------------

    def facets(
        self,
        iri: NamedNode,
        kind: str,
        facets: dict[str, Any] | None,
        handlers: dict[str, Callable[..., None]],
        dataset: dict[str, Any] | None = None,
    ) -> None:
        if not facets or self.same(facets, self._facets.get((iri, ""))):
            return
        self._facets[iri, ""] = facets
        for name, facet in facets.items():
            key = (iri, name)
            if self._facets.get(key) == facet:
                continue
            self._facets[key] = facet
            if facet.get("_deleted"):
                self.writer.warn("deleted facet (ignored)")
                continue
            handler = handlers.get(name)
            if handler is None:
                self.annotate(iri, kind, name, _facet_fields(facet), warning="unknown facet")
            elif dataset is not None:
                handler(self, iri, facet, dataset)
            else:
                handler(self, iri, kind, facet)

    def fields_as_annotations(self, iri: NamedNode, kind: str, prefix: str, facet: dict[str, Any]) -> None:
        for key, value in _facet_fields(facet).items():
            self.annotate(iri, kind, f"{prefix}.{key}", value)

    def description(self, iri: NamedNode, kind: str, facet: dict[str, Any]) -> None:
        self.set(iri, kind, "description", facet.get("description"))
        if facet.get("contentType"):
            self.annotate(iri, kind, "documentation.contentType", facet["contentType"])

    def ownership(self, iri: NamedNode, kind: str, facet: dict[str, Any]) -> None:
        """``team:x``/``group:x`` is a team; ``user:x``/``person:x``, an email or a bare name
        is a person; other prefixes (``application:x``) name no agent and are kept as text."""
        for owner in facet.get("owners") or ():
            name = owner["name"]
            prefix, colon, rest = name.partition(":")
            agent = None
            if not colon or "@" in prefix:
                agent = self.minter.asset("person", name), "person"
            elif prefix.lower() in ("team", "group") and rest:
                agent = self.minter.asset("team", rest), "team"
            elif prefix.lower() in ("user", "person") and rest:
                agent = self.minter.asset("person", rest), "person"
            if agent:
                self.edge(iri, kind, "ownedBy", self.writer.reference(*agent))
                if owner.get("type"):
                    self.annotate(iri, kind, "ownership", f"{name}: {owner['type']}")
            else:
                self.annotate(iri, kind, "owner", owner, warning="owner that is not a team or person")

    def tags(
        self, iri: NamedNode, kind: str, facet: dict[str, Any], dataset: dict[str, Any] | None = None
    ) -> None:
        """A tag ``pii: true`` is the tag ``pii``; ``tier: gold`` is ``tier=gold``. A tag of a
        dataset that names a field tags that field."""
        for tag in facet.get("tags") or ():
            value = str(tag.get("value", ""))
            label = tag["key"] if value in ("", "true") else f"{tag['key']}={value}"
            if dataset is not None and tag.get("field"):
                field = self.field_node(iri, dataset["namespace"], dataset["name"], tag["field"])
                self.set(field, "field", "tag", label)
            else:
                self.set(iri, kind, "tag", label)

    # dataset facets

    def schema(self, iri: NamedNode, facet: dict[str, Any], dataset: dict[str, Any]) -> None:
        """Each field, nested ones named by their dotted path, as a field node of the dataset."""
        namespace, name = dataset["namespace"], dataset["name"]
        pending = [("", field) for field in reversed(facet.get("fields") or [])]
        while pending:
            parent, field = pending.pop()
            path = f"{parent}.{field['name']}" if parent else field["name"]
            node = self.field_node(iri, namespace, name, path)
            self.set(node, "field", "dataType", field.get("type"))
            self.set(node, "field", "description", field.get("description"))
            for key in field.keys() - {"name", "type", "description", "fields"}:
                if field[key] not in (None, "", [], {}):
                    self.annotate(node, "field", key, field[key])
            pending.extend((path, child) for child in reversed(field.get("fields") or []))

    def column_lineage(self, iri: NamedNode, facet: dict[str, Any], dataset: dict[str, Any]) -> None:
        namespace, name = dataset["namespace"], dataset["name"]
        for path, spec in (facet.get("fields") or {}).items():
            target = self.field_node(iri, namespace, name, path)
            for source in spec["inputFields"]:
                self.edge(target, "field", "derivedFrom", self.input_field(source))
                if source.get("transformations"):
                    label = f"transformations[{source['namespace']}/{source['name']}#{source['field']}]"
                    self.annotate(target, "field", label, source["transformations"])
            for key in ("transformationDescription", "transformationType"):
                if spec.get(key):
                    self.annotate(target, "field", key, spec[key])
        # Dataset-level entries (filters, join keys): the whole output depends on these fields.
        for source in facet.get("dataset") or ():
            self.edge(iri, "dataset", "derivedFrom", self.input_field(source))

    def input_field(self, source: dict[str, Any]) -> NamedNode:
        dataset = self.dataset_node(source["namespace"], source["name"])
        return self.field_node(dataset, source["namespace"], source["name"], source["field"])

    def dataset_description(self, iri: NamedNode, facet: dict[str, Any], dataset: dict[str, Any]) -> None:
        self.description(iri, "dataset", facet)

    def dataset_ownership(self, iri: NamedNode, facet: dict[str, Any], dataset: dict[str, Any]) -> None:
        self.ownership(iri, "dataset", facet)

    def dataset_tags(self, iri: NamedNode, facet: dict[str, Any], dataset: dict[str, Any]) -> None:
        self.tags(iri, "dataset", facet, dataset)

    def symlinks(self, iri: NamedNode, facet: dict[str, Any], dataset: dict[str, Any]) -> None:
        """Another name of the same dataset (a table over a storage path): one asset, owl:sameAs."""
        for identifier in facet.get("identifiers") or ():
            other = self.dataset_node(identifier["namespace"], identifier["name"])
            if other != iri:
                self.on(iri, "dataset").same_as(other)

    def dataset_version(self, iri: NamedNode, facet: dict[str, Any], dataset: dict[str, Any]) -> None:
        self.version(dataset, iri)

    def lifecycle(self, iri: NamedNode, facet: dict[str, Any], dataset: dict[str, Any]) -> None:
        """DROP retires the dataset, CREATE makes it active again; a RENAME's previous name is
        the same dataset; other changes are kept as text."""
        change = facet.get("lifecycleStateChange")
        if change == "DROP":
            self.set(iri, "dataset", "status", "retired")
        elif change == "CREATE":
            self.set(iri, "dataset", "status", "active")
        elif change:
            self.annotate(iri, "dataset", "lifecycleStateChange", change)
        previous = facet.get("previousIdentifier")
        if previous:
            other = self.dataset_node(previous["namespace"], previous["name"])
            if other != iri:
                self.on(iri, "dataset").same_as(other)

    def data_source(self, iri: NamedNode, facet: dict[str, Any], dataset: dict[str, Any]) -> None:
        fields = dict(facet)
        if isinstance(fields.get("uri"), str):
            fields["uri"] = _without_password(fields["uri"])
        self.fields_as_annotations(iri, "dataset", "dataSource", fields)

    # job facets

    def source_code_location(self, iri: NamedNode, kind: str, facet: dict[str, Any]) -> None:
        self.set(iri, kind, "sourceUrl", facet.get("url"))
        rest = {k: v for k, v in facet.items() if k != "url"}
        self.fields_as_annotations(iri, kind, "sourceCodeLocation", rest)

    # run facets

    def parent(self, iri: NamedNode, kind: str, facet: dict[str, Any]) -> None:
        """The run is part of its parent run (an Airflow DAG run, a Spark application), which
        is part of the parent job; the root of the hierarchy is kept as text."""
        if "run" not in facet:
            return
        parent_job = self.job_node(facet["job"])
        parent_run = self.run_node(facet["run"]["runId"], facet["job"]["name"], parent_job)
        if parent_run != iri:
            self.edge(iri, kind, "partOf", parent_run)
        root = facet.get("root")
        if root:
            label = f"{root['job']['namespace']}/{root['job']['name']} run {root['run']['runId'].lower()}"
            self.annotate(iri, kind, "parent.root", label)


def _without_password(uri: str) -> str:
    """A data source URI as a person may read it: ``postgres://user:secret@host`` loses the secret."""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/@:]*):[^/@]*@", r"\1@", uri)


def _annotations(prefix: str) -> Callable[[_Mapper, NamedNode, str, dict[str, Any]], None]:
    """A facet the ontology has no terms for, known and kept field by field as annotations."""

    def handler(mapper: _Mapper, iri: NamedNode, kind: str, facet: dict[str, Any]) -> None:
        mapper.fields_as_annotations(iri, kind, prefix, facet)

    return handler


_DATASET_FACETS: dict[str, Callable[..., None]] = {
    "schema": _Mapper.schema,
    "columnLineage": _Mapper.column_lineage,
    "documentation": _Mapper.dataset_description,
    "ownership": _Mapper.dataset_ownership,
    "symlinks": _Mapper.symlinks,
    "datasetVersion": _Mapper.dataset_version,
    "lifecycleStateChange": _Mapper.lifecycle,
    "dataSource": _Mapper.data_source,
    "tags": _Mapper.dataset_tags,
}
_JOB_FACETS: dict[str, Callable[..., None]] = {
    "documentation": _Mapper.description,
    "ownership": _Mapper.ownership,
    "tags": _Mapper.tags,
    "sourceCodeLocation": _Mapper.source_code_location,
    "sql": _annotations("sql"),
    "jobType": _annotations("jobType"),
    "sourceCode": _annotations("sourceCode"),
}
_RUN_FACETS: dict[str, Callable[..., None]] = {
    "parent": _Mapper.parent,
    "tags": _Mapper.tags,
    "nominalTime": _annotations("nominalTime"),
    "errorMessage": _annotations("errorMessage"),
    "processing_engine": _annotations("processing_engine"),
}


# ---------------------------------------------------------------- submissions


def events_submission(
    events: Sequence[Any], *, minter: Minter, source: str, location: str, digest: str
) -> Submission:
    """One submission from a batch of events (a request body): validated, then merged node
    by node. An error names the event by its index in the batch, and the first invalid
    event stops everything: nothing is admitted."""
    places = [location] if len(events) == 1 else [f"{location}: [{i}]" for i in range(len(events))]
    return _submission(
        zip(events, places, strict=True), minter=minter, source=source, location=location, digest=digest
    )


def _submission(
    events: Iterable[tuple[Any, str]], *, minter: Minter, source: str, location: str, digest: str
) -> Submission:
    with _collector_paused():
        records, warnings = _convert(events, minter, location)
    return Submission(source, FORMAT, digest, lambda: iter(records), location, warnings=warnings)


def _convert(
    events: Iterable[tuple[Any, str]], minter: Minter, location: str
) -> tuple[list[Record], dict[str, int]]:
    """Validate and map every event. The validator's and mapper's memories are freed on
    return, before the garbage collector runs again: it then has only the records to walk."""
    validate = EventValidator()
    mapper = _Mapper(minter)
    where, count = location, 0
    try:
        for event, where in events:
            validate(event, where)
            mapper.compared = validate.compared
            mapper.event(event, where)
            count += 1
    except RecursionError:
        raise InputError("JSON nested too deeply", where=where) from None
    if not count:
        raise InputError("no OpenLineage events", where=location)
    return mapper.finish(), dict(mapper.writer.warnings)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while events are converted.

    Parsing and mapping allocate millions of small objects that refer to no cycle (JSON
    values, pyoxigraph terms); the collector would traverse them again and again, 40% of
    the conversion time of a large event log. Reference counting still frees them.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


_CONTENT = re.compile(rb"[^ \t\r\n]")


def _events(location: str, data: bytes) -> Iterator[tuple[Any, str]]:
    """The events of a file, each with where it is: ``file:LINE`` in JSON lines (as
    FileTransport writes them), ``file: [i]`` in an array, ``file`` alone for one event,
    ``file: events[i]`` in a Marquez export (``{"events": [...]}``).

    JSON lines are parsed one line at a time, so a large event log is never all in memory
    as Python objects. Duplicate keys are let through, the last winning, as OpenLineage's
    own readers do (Jackson in Marquez, Python's json).
    """
    first = _CONTENT.search(data, 3 if data.startswith(b"\xef\xbb\xbf") else 0)
    if first is None:
        raise InputError("empty: no OpenLineage events", where=location)
    if first.group() == b"{":
        end = data.find(b"\n", first.start())
        try:
            json.loads(data[first.start() : end if end >= 0 else len(data)])
            one_a_line = end >= 0 and _CONTENT.search(data, end) is not None
        except (ValueError, RecursionError):
            one_a_line = False  # one event over many lines, or malformed: parsed whole below
        if one_a_line:
            yield from _json_lines(location, data)
            return
    document = parse_json(location, data, unique_keys=False)
    if (
        isinstance(document, dict)
        and isinstance(document.get("events"), list)
        and "eventTime" not in document
    ):
        # Marquez's GET /api/v1/events/lineage: {"events": [...], "totalCount": n}
        yield from ((event, f"{location}: events[{index}]") for index, event in enumerate(document["events"]))
    elif isinstance(document, list):
        yield from ((event, f"{location}: [{index}]") for index, event in enumerate(document))
    else:
        yield document, location


def _json_lines(location: str, data: bytes) -> Iterator[tuple[Any, str]]:
    start, number, size = 0, 0, len(data)
    while start < size:
        end = data.find(b"\n", start)
        end = size if end < 0 else end
        line = data[start:end]
        start, number = end + 1, number + 1
        if not line or line.isspace():
            continue
        place = f"{location}:{number}"
        try:
            yield json.loads(line), place
        except json.JSONDecodeError as error:
            raise InputError(f"malformed JSON: {error.msg}", where=f"{place}:{error.colno}") from None
        except UnicodeDecodeError as error:
            raise InputError(f"not UTF-8 (byte {error.start} of the line)", where=place) from None
        except RecursionError:
            raise InputError("JSON nested too deeply", where=place) from None


def _load(request: Request) -> Submission:
    return _submission(
        _events(request.location, request.data),
        minter=request.minter,
        source=request.default_source(),
        location=request.location,
        digest=sha256_digest(request.data),
    )


_EVENT_TIME = re.compile(rb'"eventTime"\s*:\s*"')
_KEY = re.compile(rb'"(eventType|producer|schemaURL|run|job|dataset|inputs|outputs)"\s*:')


def _sniff(path: Path, head: bytes) -> bool:
    """A JSON object (or an array, or lines of them) with an ``eventTime`` string and another
    top-level key of an OpenLineage event. A JSON Schema that describes ``eventTime`` is not
    an event: its value there is an object."""
    if path.suffix.lower() not in EXTENSIONS:
        return False
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if start.startswith(b"["):
        start = start[1:].lstrip()
    return start.startswith(b"{") and bool(_EVENT_TIME.search(head)) and bool(_KEY.search(head))


FORMATS = [
    Format(
        FORMAT,
        EXTENSIONS,
        "OpenLineage events: one event, a JSON array, or JSON lines as FileTransport writes them",
        _sniff,
        _load,
    )
]
