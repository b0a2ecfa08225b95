"""Feast feature repositories: the registry ``feast apply`` writes, and its JSON dump.

Two inputs, one mapping. ``registry.db`` (or ``.pb``) is the protobuf ``Registry``
message a file-based Feast registry keeps; ``feast registry-dump`` prints the same
objects as protobuf JSON, and the Feast UI reads a JSON of that shape too. Both are
read into the one ``Registry`` message and mapped from there, so they give the same
graph. Nothing in a registry is executed: transformation bodies (pickled functions)
are neither unpickled nor kept.

What maps to what (the README section of this loader has the table):

- project → ``system:feast:{project}``; views and feature services are ``partOf`` it, and
  its name prefixes every id: ``feature-view:{project}/{view}``, ``feature:{project}/{view}/{feature}``;
- data source → ``dataset`` named the OpenLineage way (:func:`_location`), when it
  names stored data; a request source or a query names none and is kept as an annotation;
- feature view, stream feature view → ``feature-view`` ``derivedFrom`` its source datasets;
  on-demand feature view → ``feature-view`` ``derivedFrom`` its source feature views;
- feature → ``feature`` ``partOf`` its view, ``derivedFrom`` what its view reads;
- entity → the join-key ``field`` of each view keyed by it (``partOf`` the view);
- feature service → ``feature-service`` (a kind of feature view; IRI ``feature-service/{project}/{name}``)
  ``derivedFrom`` the views and features it serves: what a model reads;
- saved dataset → ``dataset`` at its storage location, ``derivedFrom`` its feature service.
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import json
import re
import sys
import threading
import types
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pyoxigraph import NamedNode

from mlg.errors import InputError
from mlg.identity import Minter, split_dataset_uri
from mlg.loaders import Format, Request, require
from mlg.loaders.documents import parse_json
from mlg.loaders.mapping import RecordWriter, submission
from mlg.submission import Submission

NAME = "feast"
_REGISTRY_MODULE = "feast.protos.feast.core.Registry_pb2"
_DUMMY_ENTITY = "__dummy"  # Feast's stand-in entity of entity-less views; it names no column
_SQLITE = b"SQLite format 3\x00"
# Every field of Registry is length-delimited; these hold messages that begin with field 1.
_REGISTRY_FIELDS = frozenset((1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19))
_STARTS_WITH_FIELD_1 = frozenset((1, 2, 6, 7, 8, 10, 11, 13, 14, 15, 16, 17, 18, 19))
_JSON_KEYS = re.compile(
    rb'"(featureViews|onDemandFeatureViews|streamFeatureViews|featureServices|dataSources|projectMetadata)"\s*:'
)
# Registry objects that have no mlg term yet: counted, not mapped.
_NOT_MAPPED = {
    "feature_tables": "Feast feature table (legacy, not mapped)",
    "label_views": "Feast label view (not mapped)",
    "permissions": "Feast permission (not mapped)",
    "validation_references": "Feast validation reference (not mapped)",
}
# Spec fields kept as annotations when they differ from their default.
_VIEW_NOTES = ("ttl", "online", "offline", "mode", "timestamp_field", "aggregations", "write_to_online_store")
_VIEW_NOTES += (
    "singleton",
    "enable_tiling",
    "tiling_hop_size",
    "enable_validation",
    "org",
    "disabled",
    "version",
)
_SOURCE_NOTES = ("timestamp_field", "created_timestamp_column", "date_partition_column", "field_mapping")
_TIMES = (
    ("created", "created_timestamp", "createdTimestamp"),
    ("modified", "last_updated_timestamp", "lastUpdatedTimestamp"),
)


# ---------------------------------------------------------------- the protobuf classes

_lock = threading.Lock()
_classes: tuple[Any, Any] | None = None


def _protos() -> tuple[Any, Any]:
    """Feast's ``Registry`` message class and protobuf's ``json_format``, imported once.

    ``import feast.protos...`` first runs ``feast/__init__.py``, which imports the whole
    SDK (pandas, pyarrow, FastAPI: 8 s and more) though the generated modules need none
    of it. So when Feast is not imported yet, they are imported under a bare stand-in for
    the ``feast`` package, and every ``feast`` module that import added is then removed
    from ``sys.modules``: a later ``import feast`` starts afresh and finds the same
    classes (protobuf keeps one class per message type).
    """
    global _classes
    with _lock:
        if _classes is None:
            json_format = require("google.protobuf.json_format", NAME)
            _classes = (_import_registry_module().Registry, json_format)
        return _classes


def _import_registry_module() -> Any:
    spec = importlib.util.find_spec("feast") if "feast" not in sys.modules else None
    if spec is None or not spec.submodule_search_locations:
        return require(_REGISTRY_MODULE, NAME)
    before = set(sys.modules)
    stand_in = types.ModuleType("feast")
    stand_in.__path__ = list(spec.submodule_search_locations)
    sys.modules["feast"] = stand_in
    try:
        return importlib.import_module(_REGISTRY_MODULE)
    except ImportError:
        module = None
    finally:
        for name in set(sys.modules) - before:
            if name == "feast" or name.startswith("feast."):
                del sys.modules[name]
    return module or require(_REGISTRY_MODULE, NAME)


# ---------------------------------------------------------------- detection


def _varint(data: bytes, position: int) -> tuple[int | None, int]:
    value = shift = 0
    while position < len(data) and shift < 64:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
    return None, position


def _looks_like_registry(head: bytes) -> bool:
    """Whether the first bytes read as a protobuf ``Registry``: its fields, each starting as it should.

    A field running past the first bytes ends the check, so a truncated registry is still
    recognised (and then refused by the parser with a clear error).
    """
    if not head or head.startswith(_SQLITE):
        return False
    position = fields = 0
    while position < len(head):
        tag, position = _varint(head, position)
        length, position = _varint(head, position)
        if tag is None or length is None:
            break
        number, wire_type = tag >> 3, tag & 7
        if wire_type != 2 or number not in _REGISTRY_FIELDS:
            return False
        body = head[position : position + length]
        if body and number in _STARTS_WITH_FIELD_1 and body[0] != 0x0A:
            return False
        if number in (3, 4) and not body.decode("latin-1").isprintable():  # schema version, version id
            return False
        if body and number == 5 and body[0] not in (0x08, 0x10):  # last_updated: seconds, nanos
            return False
        fields += 1
        position += length
    return fields > 0


def _looks_like_registry_json(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"{") or b'"@context"' in head or b"mlg-manifest" in head:
        return False
    return bool(_JSON_KEYS.search(head)) or (b'"entities"' in head and b'"joinKey"' in head)


def sniff(path: Path, head: bytes) -> bool:
    suffix = path.suffix.lower()
    if suffix == ".json":
        return _looks_like_registry_json(head)
    if suffix in (".db", ".pb"):
        return _looks_like_registry(head)
    return False


# ---------------------------------------------------------------- reading


def _read_binary(location: str, data: bytes, registry_class: Any) -> Any:
    from google.protobuf.message import DecodeError

    if data.startswith(_SQLITE):
        raise InputError(
            "an SQLite database, not a Feast registry file (a Feast SQL registry is not read yet)",
            where=location,
        )
    try:
        registry = registry_class.FromString(data)
    except (DecodeError, ValueError, RuntimeError) as error:
        raise InputError(
            f"not a readable Feast registry (corrupt or truncated): {error}", where=location
        ) from None
    if not registry.ListFields():
        raise InputError("not a Feast registry: no Feast object in it", where=location)
    return registry


def _read_json(location: str, data: bytes, registry_class: Any, json_format: Any) -> tuple[Any, Any, dict]:
    """The registry of a ``feast registry-dump`` or Feast UI JSON, its project, its unknown fields.

    Fields the message does not define are taken out first (and kept, by the object they
    belong to, for annotations); the rest is parsed strictly, so a misspelt enum value or a
    wrong type is an error with its path, not a silently missing fact.
    """
    document = parse_json(location, data)
    if not isinstance(document, dict):
        raise InputError("a Feast registry JSON is an object", where=location)
    project = document.pop("project", None)
    if project is not None and not isinstance(project, str):
        raise InputError("expected the project's name, as text", where=f"{location}: project")
    # The dump lists infra objects where the message has {"infraObjects": [...]}: not mapped anyway.
    document.pop("infra", None)
    for key in ("onDemandFeatureViews", "streamFeatureViews"):
        views = document.get(key)
        for view in views if isinstance(views, list) else ():
            _drop_function_bodies(view)
    unknown: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    for path, holder, key in list(_unknown_fields(document, registry_class.DESCRIPTOR, "")):
        item, _, rest = path.partition("].")
        unknown[item + "]" if rest else path].append((rest, holder.pop(key)))
    try:
        registry = json_format.ParseDict(document, registry_class())
    except json_format.ParseError as error:
        message, place = _parse_error(str(error))
        raise InputError(message, where=f"{location}: {place}" if place else location) from None
    return registry, project, unknown


def _drop_function_bodies(view: Any) -> None:
    """The dump writes a transformation's source text where the message holds its pickled
    bytes; neither is mapped, and the text would not parse as bytes."""
    spec = view.get("spec") if isinstance(view, dict) else None
    if not isinstance(spec, dict):
        return
    transformation = spec.get("featureTransformation")
    for holder in (spec, transformation if isinstance(transformation, dict) else {}):
        function = holder.get("userDefinedFunction")
        if isinstance(function, dict):
            function.pop("body", None)


def _parse_error(text: str) -> tuple[str, str]:
    """protobuf's nested 'Failed to parse x field: ...' message as (the cause, the JSON path)."""
    text = text.splitlines()[0].rstrip(". ") if text.strip() else "unreadable"
    chain = re.findall(r"Failed to parse (\w+) field: ", text)
    cause = re.sub(r"(Failed to parse \w+ field: )+", "", text)
    found = re.search(r' at "?Registry\.?([^"\s]*)"?$', cause)
    if found:
        place, cause = found.group(1).rstrip("."), cause[: found.start()]
    else:
        place = ".".join(chain)
    if len(place) > 120:
        place = place[:120] + "..."
    if len(cause) > 200:
        cause = cause[:200] + "..."
    return f"not a Feast registry: {cause.strip()}", place


def _unknown_fields(
    value: Any, descriptor: Any, path: str, depth: int = 0
) -> Iterator[tuple[str, dict, str]]:
    """(path, holder, key) of every key of a JSON object that its message does not define.

    Past protobuf's own nesting limit (100) it stops: parsing refuses such input anyway.
    """
    if not isinstance(value, dict) or depth > 100:
        return
    for key, item in value.items():
        field = descriptor.fields_by_camelcase_name.get(key) or descriptor.fields_by_name.get(key)
        place = f"{path}.{key}" if path else key
        if field is None:
            yield place, value, key
            continue
        message = field.message_type
        if message is None or message.full_name.startswith("google.protobuf."):
            continue
        if message.GetOptions().map_entry:
            value_type = message.fields_by_name["value"].message_type
            if value_type is not None and isinstance(item, dict):
                for name, element in item.items():
                    yield from _unknown_fields(element, value_type, f"{place}.{name}", depth + 1)
        elif field.is_repeated:
            for index, element in enumerate(item if isinstance(item, list) else ()):
                yield from _unknown_fields(element, message, f"{place}[{index}]", depth + 1)
        else:
            yield from _unknown_fields(item, message, place, depth + 1)


# ---------------------------------------------------------------- identity of data


def _location(options: Any, class_type: str = "") -> tuple[str, str] | None:
    """The OpenLineage (namespace, name) of the data a source's options point at, if any.

    The registry holds no connection details (account, host, cluster live in
    ``feature_store.yaml``), so warehouse namespaces are the bare scheme: ``snowflake``,
    ``redshift``, ``trino``, ``awsathena``, ``postgres``, ``spark``; BigQuery's is
    ``bigquery`` as OpenLineage has it.
    """
    kind = options.DESCRIPTOR.name
    if kind == "FileOptions":
        return _path(options.uri)
    if kind == "SparkOptions":
        return _path(options.path) if options.path else _table("spark", options.table)
    if kind == "BigQueryOptions":
        return ("bigquery", options.table.replace(":", ".", 1)) if options.table else None
    if kind in ("SnowflakeOptions", "RedshiftOptions"):
        scheme = "snowflake" if kind == "SnowflakeOptions" else "redshift"
        return _table(scheme, options.table, options.database, options.schema)
    if kind == "TrinoOptions":
        return _table("trino", options.table)
    if kind == "AthenaOptions":
        return _table("awsathena", options.table, options.data_source, options.database)
    if kind == "KafkaOptions":
        server = options.kafka_bootstrap_servers.split(",")[0].strip()
        return (f"kafka://{server}" if server else "kafka", options.topic) if options.topic else None
    if kind == "KinesisOptions":
        region = options.region
        return (
            (f"kinesis://{region}" if region else "kinesis", options.stream_name)
            if options.stream_name
            else None
        )
    if kind == "CustomSourceOptions" and class_type.endswith("PostgreSQLSource"):
        try:
            table = json.loads(options.configuration).get("table")
        except (ValueError, AttributeError, RecursionError):
            return None
        return ("postgres", table) if isinstance(table, str) and table else None
    return None


def _path(uri: str) -> tuple[str, str] | None:
    if not uri:
        return None
    if "://" in uri or uri.startswith("file:"):
        try:
            return split_dataset_uri(uri)
        except InputError:
            return None
    return "file", uri


def _table(scheme: str, table: str, *qualifiers: str) -> tuple[str, str] | None:
    if not table:
        return None
    parts = [*qualifiers, table] if "." not in table else [table]
    return scheme, ".".join(part for part in parts if part)


def _tags(tags: Any) -> list[str]:
    """Feast tags are key/value pairs; a tag is ``key`` alone when its value is empty."""
    return [f"{key}={value}" if value else key for key, value in sorted(tags.items())]


def _enum_name(message: Any, field: str) -> str | None:
    """The name of an enum value (``INT64``); 0 is "not set" in every Feast enum."""
    number = getattr(message, field)
    if number == 0:
        return None
    value = message.DESCRIPTOR.fields_by_name[field].enum_type.values_by_number.get(number)
    return value.name if value else str(number)


def _moment(timestamp: Any, where: str) -> dt.datetime:
    try:
        return timestamp.ToDatetime(dt.UTC)
    except (ValueError, OverflowError) as error:
        raise InputError(f"not a date: {error}", where=where) from None


# ---------------------------------------------------------------- mapping


class _Mapping:
    """One registry being turned into records; places are named as in the JSON dump."""

    def __init__(self, request: Request, registry: Any, project: str | None, unknown: dict) -> None:
        self.registry = registry
        self.json_format = _protos()[1]
        self.location = request.location
        self.minter: Minter = request.minter
        self.writer = RecordWriter(request.minter)
        self.unknown = unknown
        self.owners: dict[str, NamedNode] = {}
        self.systems: dict[str, NamedNode] = {}  # one a project, in the order first named
        self.datasets: set[NamedNode] = set()
        self.keyed: set[tuple[str, str]] = set()
        self.referenced: dict[NamedNode, str] = {}
        names = {p.spec.name for p in registry.projects} | {m.project for m in registry.project_metadata}
        names.discard("")
        self.default_project = project or (names.pop() if len(names) == 1 else None)
        self.entities = {
            (self.project(e.spec.project, f"entities[{i}]"), e.spec.name): (f"entities[{i}]", e)
            for i, e in enumerate(registry.entities)
        }

    def where(self, place: str) -> str:
        return f"{self.location}: {place}"

    def project(self, declared: str, place: str) -> str:
        name = declared or self.default_project
        if not name:
            raise InputError(
                "names no project, and the registry has not exactly one",
                where=self.where(f"{place}.spec.project"),
            )
        if name not in self.systems:
            # Not assumed to be the Backstage system of the same name: owl:sameAs can say so.
            self.systems[name] = self.minter.asset("system", f"feast:{name}")
        return name

    def name(self, value: str, place: str) -> str:
        if not value.strip():
            raise InputError("has no name", where=self.where(place))
        return value

    def owner(self, name: str) -> NamedNode:
        """A Feast owner is free text, usually an e-mail address: the person of that id."""
        if name not in self.owners:
            self.owners[name] = self.minter.asset("person", name)
        return self.owners[name]

    def reference(self, iri: NamedNode, kind: str) -> NamedNode:
        """A node pointed at that this registry may not describe: typed at the end if it does not."""
        self.referenced.setdefault(iri, kind)
        return iri

    def view_iri(self, project: str, view: str) -> NamedNode:
        return self.minter.asset("feature-view", f"{project}/{view}")

    def feature_iri(self, project: str, view: str, feature: str) -> NamedNode:
        return self.minter.asset("feature", f"{project}/{view}/{feature}")

    # -- what every object has ----------------------------------------------------

    def describe(self, iri: NamedNode, kind: str, obj: Any, meta: Any, source_id: str, place: str) -> None:
        """Name, description, owner, tags and times: every Feast object has them."""
        writer, where = self.writer, self.where(place)
        writer.node(iri, kind)
        writer.attribute("name", obj.name, where)
        if obj.description:
            writer.attribute("description", obj.description, where)
        if getattr(obj, "owner", ""):
            writer.edge("ownedBy", self.owner(obj.owner))
        writer.attribute("tag", _tags(obj.tags), where)
        if meta is not None:
            for attribute, field, key in _TIMES:
                if meta.HasField(field):
                    moment = _moment(getattr(meta, field), self.where(f"{place}.meta.{key}"))
                    writer.attribute(attribute, moment, where)
        writer.attribute("sourceRegistry", NAME, where)
        writer.attribute("sourceId", source_id, where)

    def notes(self, message: Any, fields: tuple[str, ...], place: str) -> None:
        """Keep the fields no mlg term covers, when they say something (not their default)."""
        for field in fields:
            descriptor = message.DESCRIPTOR.fields_by_name.get(field)
            if descriptor is None:
                continue
            value = getattr(message, field)
            kind = descriptor.message_type
            if descriptor.is_repeated:
                if not value:
                    continue
                if kind is None or kind.GetOptions().map_entry:
                    value = dict(value) if kind else list(value)
                else:
                    value = [self.as_dict(item, f"{place}.{descriptor.json_name}") for item in value]
            elif kind is not None:
                if not message.HasField(field) or not value.ByteSize():
                    continue
                value = self.as_dict(value, f"{place}.{descriptor.json_name}")
            elif not value or (field == "version" and value == "latest"):
                continue
            self.writer.annotation(descriptor.json_name, value, warning=f"Feast {descriptor.json_name}")

    def as_dict(self, message: Any, place: str) -> Any:
        try:
            return self.json_format.MessageToDict(message)
        except ValueError as error:  # an out-of-range duration or timestamp
            raise InputError(str(error), where=self.where(place)) from None

    def unmapped(self, item: str) -> None:
        """Fields of this JSON item that the Feast message does not define, kept verbatim."""
        for key, value in self.unknown.pop(item, []):
            self.writer.annotation(key, value, warning="unknown Feast field")

    # -- data sources -------------------------------------------------------------

    def source(
        self, source: Any, project: str, place: str, follow: bool = True
    ) -> tuple[list[NamedNode], list[Any]]:
        """The datasets a data source reads (described here, once), and what names no stored data.

        A stream or push source carries the batch source that keeps its history: both count.
        """
        datasets: list[NamedNode] = []
        notes: list[Any] = []
        for _ in range(8):
            kind = source.WhichOneof("options")
            located = _location(getattr(source, kind), source.data_source_class_type) if kind else None
            if located:
                iri = self.minter.dataset(*located)
                datasets.append(iri)
                if iri not in self.datasets:
                    self.datasets.add(iri)
                    name = source.name or located[1]
                    self.describe(iri, "dataset", source, source.meta, f"{project}/{name}", place)
                    self.writer.attribute("name", name, self.where(place))
                    self.writer.attribute("namespace", located[0], self.where(place))
                    self.writer.attribute("qualifiedName", located[1], self.where(place))
                    self.notes(source, _SOURCE_NOTES, place)
            elif kind == "request_data_options":
                schema = source.request_data_options.schema
                notes.append(
                    {"name": source.name, "request": {f.name: _enum_name(f, "value_type") for f in schema}}
                )
            else:  # a push, a query or a custom source: kept by name on the views that read it
                note = {"name": source.name, "type": _enum_name(source, "type") or kind}
                if kind == "custom_options":
                    note["class"] = source.data_source_class_type
                query = getattr(getattr(source, kind), "query", "") if kind else ""
                notes.append({**note, "query": query} if query else note)
            if not follow or not source.HasField("batch_source"):
                break
            source, place = source.batch_source, f"{place}.batchSource"
        return datasets, notes

    def data_sources(self) -> None:
        """The registry's own list first: the copies embedded in views and in stream sources
        may be older (their timestamps are those of the view's last apply)."""
        for follow in (False, True):
            for index, source in enumerate(self.registry.data_sources):
                place = f"dataSources[{index}]"
                datasets, _ = self.source(source, self.project(source.project, place), place, follow)
                if follow:
                    continue
                if datasets:
                    self.writer.node(datasets[0], "dataset")
                    self.unmapped(place)
                else:
                    self.writer.warn("Feast data source naming no stored data")

    # -- views and features -------------------------------------------------------

    def views(self) -> None:
        for key, collection in (
            ("featureViews", self.registry.feature_views),
            ("streamFeatureViews", self.registry.stream_feature_views),
        ):
            for index, view in enumerate(collection):
                place, spec = f"{key}[{index}]", view.spec
                project = self.project(spec.project, place)
                upstream: list[NamedNode] = []
                notes: list[Any] = []
                for field, name in (("batch_source", "batchSource"), ("stream_source", "streamSource")):
                    if spec.HasField(field):
                        datasets, unstored = self.source(
                            getattr(spec, field), project, f"{place}.spec.{name}"
                        )
                        upstream += datasets
                        notes += unstored
                for source_view in getattr(spec, "source_views", ()):
                    upstream.append(self.reference(self.view_iri(project, source_view.name), "feature-view"))
                self.view(view, project, place, upstream, notes)
                self.features(spec, project, place, upstream)

    def on_demand_views(self) -> None:
        """An on-demand view computes from other views' features and request data."""
        for index, view in enumerate(self.registry.on_demand_feature_views):
            place, spec = f"onDemandFeatureViews[{index}]", view.spec
            project = self.project(spec.project, place)
            upstream: list[NamedNode] = []
            inputs: list[NamedNode] = []
            notes: list[Any] = []
            for key in sorted(spec.sources):
                source = spec.sources[key]
                kind = source.WhichOneof("source")
                if kind == "request_data_source":
                    notes += self.source(source.request_data_source, project, f"{place}.spec.sources.{key}")[
                        1
                    ]
                    continue
                if kind == "feature_view":
                    name, columns = source.feature_view.spec.name, source.feature_view.spec.features
                elif kind == "feature_view_projection":
                    name = source.feature_view_projection.feature_view_name
                    columns = source.feature_view_projection.feature_columns
                else:
                    continue
                upstream.append(self.reference(self.view_iri(project, name), "feature-view"))
                inputs += [
                    self.reference(self.feature_iri(project, name, c.name), "feature") for c in columns
                ]
            self.view(view, project, place, upstream, notes)
            self.features(spec, project, place, inputs or upstream)

    def view(self, view: Any, project: str, place: str, upstream: list[NamedNode], notes: list[Any]) -> None:
        spec, writer = view.spec, self.writer
        name = self.name(spec.name, f"{place}.spec.name")
        iri = self.view_iri(project, name)
        self.describe(iri, "feature-view", spec, view.meta, f"{project}/{name}", place)
        writer.edge("partOf", self.systems[project])
        for target in upstream:
            writer.edge("derivedFrom", target)
        for note in notes:
            writer.annotation("source", note, warning="Feast source naming no stored data")
        for entity in spec.entities:
            if entity != _DUMMY_ENTITY:
                writer.annotation("entity", entity, warning="Feast entity")
        self.notes(spec, _VIEW_NOTES, f"{place}.spec")
        function = spec.feature_transformation.user_defined_function.name
        if not function and "user_defined_function" in spec.DESCRIPTOR.fields_by_name:
            function = spec.user_defined_function.name
        if function:
            writer.annotation("transformation", function, warning="Feast transformation")
        intervals = getattr(view.meta, "materialization_intervals", ())
        if intervals:
            until = max(
                _moment(i.end_time, self.where(f"{place}.meta.materializationIntervals")) for i in intervals
            )
            writer.annotation("materializedUntil", until.isoformat(), warning="Feast materializedUntil")
        self.unmapped(place)
        self.keys(spec, project, iri, upstream)

    def features(self, spec: Any, project: str, place: str, upstream: list[NamedNode]) -> None:
        writer, view = self.writer, spec.name
        view_iri = self.view_iri(project, view)
        owner = self.owner(spec.owner) if spec.owner else None
        for index, feature in enumerate(spec.features):
            at = f"{place}.spec.features[{index}]"
            name = self.name(feature.name, f"{at}.name")
            self.describe(
                self.feature_iri(project, view, name),
                "feature",
                feature,
                None,
                f"{project}/{view}/{name}",
                at,
            )
            writer.attribute("dataType", _enum_name(feature, "value_type"), self.where(at))
            writer.edge("partOf", view_iri)
            for target in upstream:
                writer.edge("derivedFrom", target)
            if owner:
                writer.edge("ownedBy", owner)
            if feature.vector_index or feature.vector_search_metric or feature.vector_length:
                self.notes(feature, ("vector_index", "vector_search_metric", "vector_length"), at)

    def keys(self, spec: Any, project: str, view_iri: NamedNode, upstream: list[NamedNode]) -> None:
        """The join key of each entity of a view, as a field of the view, described by the entity."""
        columns = {c.name: c for c in spec.entity_columns}
        for name in spec.entities:
            if name == _DUMMY_ENTITY:
                continue
            self.keyed.add((project, name))
            place, entity = self.entities.get((project, name), ("", None))
            key = entity.spec.join_key if entity and entity.spec.join_key else name
            iri = self.minter.asset("field", f"{project}/{spec.name}/{key}")
            if entity is None:
                self.writer.node(iri, "field")
                self.writer.warn("Feast entity missing from the registry")
            else:
                self.describe(iri, "field", entity.spec, entity.meta, f"{project}/{name}", place)
            self.writer.attribute("name", key, self.where(place))
            self.writer.annotation("entity", name)
            data_type = _enum_name(columns[key], "value_type") if key in columns else None
            data_type = data_type or (_enum_name(entity.spec, "value_type") if entity else None)
            self.writer.attribute("dataType", data_type, self.where(place))
            self.writer.edge("partOf", view_iri)
            for target in upstream:
                self.writer.edge("derivedFrom", target)

    # -- feature services, saved datasets, projects -----------------------------

    def services(self) -> None:
        """A feature service is what a model reads: the views and features it serves."""
        for index, service in enumerate(self.registry.feature_services):
            place, spec, writer = f"featureServices[{index}]", service.spec, self.writer
            project = self.project(spec.project, place)
            name = self.name(spec.name, f"{place}.spec.name")
            iri = self.minter.asset("feature-service", f"{project}/{name}")
            self.describe(iri, "feature-service", spec, service.meta, f"{project}/{name}", place)
            writer.edge("partOf", self.systems[project])
            for projection in spec.features:
                view = projection.feature_view_name
                writer.edge("derivedFrom", self.reference(self.view_iri(project, view), "feature-view"))
                for column in projection.feature_columns:
                    feature = self.reference(self.feature_iri(project, view, column.name), "feature")
                    writer.edge("derivedFrom", feature)
                if projection.feature_view_name_alias:
                    alias = f"{view}={projection.feature_view_name_alias}"
                    writer.annotation("alias", alias, warning="Feast alias")
            self.notes(spec, ("logging_config", "precompute_online"), f"{place}.spec")
            self.unmapped(place)

    def saved_datasets(self) -> None:
        """A saved dataset (a training set Feast retrieved) is data derived from its feature service."""
        for index, saved in enumerate(self.registry.saved_datasets):
            place, spec, writer = f"savedDatasets[{index}]", saved.spec, self.writer
            project = self.project(spec.project, place)
            kind = spec.storage.WhichOneof("kind")
            located = _location(getattr(spec.storage, kind)) if kind else None
            if not located:
                writer.warn("Feast saved dataset naming no stored data")
                continue
            name = self.name(spec.name, f"{place}.spec.name")
            self.describe(
                self.minter.dataset(*located), "dataset", spec, saved.meta, f"{project}/{name}", place
            )
            writer.attribute("namespace", located[0], self.where(place))
            writer.attribute("qualifiedName", located[1], self.where(place))
            if spec.feature_service_name:
                service = self.minter.asset("feature-service", f"{project}/{spec.feature_service_name}")
                writer.edge("derivedFrom", self.reference(service, "feature-service"))
            for reference in spec.features:
                view, _, feature = reference.partition(":")
                if feature:
                    writer.edge(
                        "derivedFrom", self.reference(self.feature_iri(project, view, feature), "feature")
                    )
            self.notes(spec, ("join_keys", "full_feature_names"), f"{place}.spec")
            self.unmapped(place)

    def projects(self) -> None:
        """One system a project: described by the registry's project object, else named only."""
        described = {}
        for index, project in enumerate(self.registry.projects):
            place = f"projects[{index}]"
            described[self.project(self.name(project.spec.name, f"{place}.spec.name"), place)] = (
                place,
                project,
            )
        uuids = {m.project: m.project_uuid for m in self.registry.project_metadata}
        for name, iri in sorted(self.systems.items()):
            if name in described:
                place, project = described[name]
                self.describe(iri, "system", project.spec, project.meta, name, place)
                self.unmapped(place)
            else:
                self.writer.node(iri, "system")
                self.writer.attribute("name", name, self.where("project"))
                self.writer.attribute("sourceRegistry", NAME, self.where("project"))
                self.writer.attribute("sourceId", name, self.where("project"))
            if uuids.get(name):
                self.writer.annotation("projectUuid", uuids[name], warning="Feast projectUuid")

    def finish(self) -> None:
        for owner, iri in sorted(self.owners.items()):
            self.writer.node(iri, "person")
            self.writer.attribute("name", owner, self.where("owner"))
            if re.fullmatch(r"[^@\s]+@[^@\s]+", owner):
                self.writer.attribute("email", owner, self.where("owner"))
        for iri, kind in self.referenced.items():
            self.writer.reference(iri, kind)
        for field, warning in _NOT_MAPPED.items():
            for _ in getattr(self.registry, field):
                self.writer.warn(warning)
        for fields in self.unknown.values():
            for _ in fields:
                self.writer.warn("unknown Feast field")
        for _, name in self.entities.keys() - self.keyed:
            if name != _DUMMY_ENTITY:
                self.writer.warn("Feast entity used by no feature view")

    def run(self) -> RecordWriter:
        self.data_sources()
        self.views()
        self.on_demand_views()
        self.services()
        self.saved_datasets()
        self.projects()
        self.finish()
        return self.writer


def load(request: Request) -> Submission:
    registry_class, json_format = _protos()
    data = request.data
    if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"[")) or request.path.suffix.lower() == ".json":
        registry, project, unknown = _read_json(request.location, data, registry_class, json_format)
    else:
        registry, project, unknown = _read_binary(request.location, data, registry_class), None, {}
    writer = _Mapping(request, registry, project, unknown).run()
    return submission(request, NAME, writer)


FORMATS = [
    Format(
        name=NAME,
        extensions=(".db", ".pb", ".json"),
        help="Feast feature registry: registry.db (protobuf) or `feast registry-dump` JSON",
        sniff=sniff,
        load=load,
    )
]
