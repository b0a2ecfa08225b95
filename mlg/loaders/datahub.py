"""DataHub metadata files: the MCEs and MCPs that DataHub's ``file`` sink writes.

A file is a JSON array (or JSON lines) of metadata change events, each a snapshot of
one entity with its aspects, and of metadata change proposals, one aspect of one
entity each (``{"aspect": {"json": ...}}``, or the serialised ``{"value": "...",
"contentType": "application/json"}`` form). Both are read here as plain JSON:
acryl-datahub's own classes validate at about 4,800 records/s before any mapping,
under the 5,000 entities/s a file loader must convert, so the library only writes
the tests' inputs.

What matters most is identity: a URN becomes the IRI every other loader mints for
the same asset, so a table that DataHub and OpenLineage both describe is one node.
Those rules are in :mod:`mlg.loaders.datahub_urns`; this module reads the records
and maps their aspects.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyoxigraph import NamedNode

from mlg.errors import InputError
from mlg.identity import Minter
from mlg.loaders import Format, Request
from mlg.loaders.datahub_urns import Entity, Identity, Urn, parse_urn
from mlg.loaders.datahub_urns import dataset_name as dataset_name  # where callers and tests import it
from mlg.loaders.documents import decode, parse_json, parse_json_lines
from mlg.loaders.mapping import RecordWriter, submission
from mlg.submission import Submission

REGISTRY = "datahub"
_SNAPSHOT_PREFIXES = ("com.linkedin.pegasus2avro.metadata.snapshot.", "com.linkedin.metadata.snapshot.")
# Every snapshot type of DataHub's MetadataChangeEvent, and the entity type of its URN.
SNAPSHOT_ENTITIES = {
    "ChartSnapshot": "chart",
    "CorpGroupSnapshot": "corpGroup",
    "CorpUserSnapshot": "corpuser",
    "DashboardSnapshot": "dashboard",
    "DataFlowSnapshot": "dataFlow",
    "DataJobSnapshot": "dataJob",
    "DatasetSnapshot": "dataset",
    "DataProcessSnapshot": "dataProcess",
    "DataPlatformSnapshot": "dataPlatform",
    "MLModelSnapshot": "mlModel",
    "MLPrimaryKeySnapshot": "mlPrimaryKey",
    "MLFeatureSnapshot": "mlFeature",
    "MLFeatureTableSnapshot": "mlFeatureTable",
    "MLModelDeploymentSnapshot": "mlModelDeployment",
    "MLModelGroupSnapshot": "mlModelGroup",
    "TagSnapshot": "tag",
    "GlossaryTermSnapshot": "glossaryTerm",
    "GlossaryNodeSnapshot": "glossaryNode",
    "DataHubPolicySnapshot": "dataHubPolicy",
    "SchemaFieldSnapshot": "schemaField",
    "DataHubRetentionSnapshot": "dataHubRetention",
}
# Aspect classes whose MCP name is not their class name with a lower-case start.
_ASPECT_NAMES = {
    "Metrics": "mlModelMetrics",
    "TrainingData": "mlModelTrainingData",
    "EvaluationData": "mlModelEvaluationData",
    "EthicalConsiderations": "mlModelEthicalConsiderations",
    "QuantitativeAnalyses": "mlModelQuantitativeAnalyses",
    "CaveatsAndRecommendations": "mlModelCaveatsAndRecommendations",
    "StructuredPropertyDefinition": "propertyDefinition",
    "SchemaFieldInfo": "schemafieldInfo",
    "ExecutionRequestKey": "dataHubExecutionRequestKey",
    "ExecutionRequestResult": "dataHubExecutionRequestResult",
    "ExecutionRequestSignal": "dataHubExecutionRequestSignal",
    "ExecutionRequestInput": "dataHubExecutionRequestInput",
}
CHANGE_TYPES = {"UPSERT", "CREATE", "CREATE_ENTITY", "UPDATE", "RESTATE"}
SENSITIVE = ("pii", "sensitive", "confidential")
MAX_DEPTH = 64

_AVRO_WRAPPERS = {"string": str, "int": int, "long": int, "float": float, "double": float, "boolean": bool}
_AVRO_WRAPPERS |= {"array": list, "map": dict}
_RUN_RESULTS = {"SUCCESS": "completed", "FAILURE": "failed", "SKIPPED": "aborted", "UP_FOR_RETRY": "failed"}
_DEPLOYMENT_STATUS = {"IN_SERVICE": "active", "OUT_OF_SERVICE": "retired", "DELETING": "retired"}
_STORAGE_URI = re.compile(r"^(s3a?|s3n|gs|gcs|abfss?|wasbs?|hdfs|file)://", re.IGNORECASE)
_MLFLOW_STAGE = re.compile(r"mlflow_(production|staging|archived)")
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")

# What an edge may point at, so that no edge breaks the shapes' sh:class.
_DATA = frozenset({"dataset", "field", "feature", "feature-view"})
_ENTITIES = _DATA | {"model", "model-version", "deployment"}
_RUNS = frozenset({"run", "training-run"})
_ACTIVITIES = _RUNS | {"job"}
_AGENTS = frozenset({"person", "team"})
_TEAMS = frozenset({"team"})
_ASSETS = _ENTITIES | _ACTIVITIES | {"pipeline"}


def aspect_name(class_name: str) -> str:
    """The MCP aspect name of an MCE aspect class: ``MLModelProperties`` → ``mlModelProperties``."""
    short = class_name.rpartition(".")[2]
    if short in _ASPECT_NAMES:
        return _ASPECT_NAMES[short]
    if short.startswith("EditableML"):
        return "editableMl" + short[10:]
    upper = len(short) - len(short.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    if upper == len(short):
        return short.lower()
    if upper <= 1:
        return short[:1].lower() + short[1:]
    return short[: upper - 1].lower() + short[upper - 1 :]


def classification(label: str) -> str | None:
    """``pii``, ``sensitive`` or ``confidential`` when a tag or term names it (``Classification.PII``)."""
    words = [w.lower() for w in _WORDS.findall(label)]
    if {"non", "not", "public"} & set(words):
        return None
    return next((w for w in words if w in SENSITIVE), None)


# ---------------------------------------------------------------- reading records


@dataclass(slots=True)
class Aspect:
    """One aspect of one entity, from an MCE snapshot or an MCP, with its place in the file."""

    urn: Urn
    name: str
    value: dict[str, Any]
    where: str


def _join(place: str, key: str) -> str:
    """A JSON path one step deeper: ``f: [3]`` → ``f: [3].aspect``; a line ``f:4:`` → ``f:4: aspect``."""
    return f"{place} {key}" if place.endswith(":") else f"{place}.{key}"


def _plain(value: Any, where: str, depth: int = 0) -> Any:
    """Avro's JSON union wrappers removed: ``{"string": "x"}`` → ``"x"`` (old MCE files carry them)."""
    if depth > MAX_DEPTH:
        raise InputError(f"nested more than {MAX_DEPTH} levels deep", where=where)
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, inner),) = value.items()
            wanted = _AVRO_WRAPPERS.get(key)
            if wanted is not None and isinstance(inner, wanted):
                return _plain(inner, where, depth + 1)
        return {key: _plain(item, where, depth + 1) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item, where, depth + 1) for item in value]
    return value


class _Records:
    """The aspects of a file, in order, from MCEs and MCPs; skipped records are counted."""

    def __init__(self, location: str, writer: RecordWriter) -> None:
        self.location = location
        self.writer = writer
        self.aspects: list[Aspect] = []
        self.parsed: dict[str, Urn] = {}

    def documents(self, data: bytes) -> list[tuple[str, Any]]:
        """(place, record) pairs: ``file: [3]`` in a JSON array, ``file:4:`` (the line) in JSON lines."""
        text = decode(self.location, data)
        try:
            document = parse_json(self.location, text, unique_keys=False)
        except InputError as error:
            if "Extra data" not in error.message or not text.lstrip().startswith("{"):
                raise
            lines = [n for n, line in enumerate(text.splitlines(), start=1) if line.strip()]
            records = parse_json_lines(self.location, text, unique_keys=False)
            return [(f"{self.location}:{n}:", record) for n, record in zip(lines, records, strict=True)]
        records = document if isinstance(document, list) else [document]
        return [(f"{self.location}: [{i}]", record) for i, record in enumerate(records)]

    def read(self, data: bytes) -> list[Aspect]:
        for place, record in self.documents(data):
            if not isinstance(record, dict):
                raise InputError("each record must be an object (an MCE or an MCP)", where=place.rstrip(":"))
            if "proposedSnapshot" in record:
                self.snapshot(record["proposedSnapshot"], _join(place, "proposedSnapshot"))
            elif "entityUrn" in record or "aspectName" in record:
                self.proposal(record, place)
            elif "bucket" in record:
                self.writer.warn("usage aggregations skipped")
            else:
                message = "not a DataHub MCE (proposedSnapshot) or MCP (entityUrn, aspectName, aspect)"
                raise InputError(message, where=place.rstrip(":"))
        return self.aspects

    def snapshot(self, snapshot: Any, where: str) -> None:
        if not isinstance(snapshot, dict) or len(snapshot) != 1:
            raise InputError("proposedSnapshot must hold exactly one snapshot", where=where)
        ((full, body),) = snapshot.items()
        short = next((full[len(p) :] for p in _SNAPSHOT_PREFIXES if full.startswith(p)), "")
        entity_type = SNAPSHOT_ENTITIES.get(short)
        if entity_type is None:
            raise InputError(f"unknown snapshot type {full!r}", where=where)
        where = _join(where, short)
        if not isinstance(body, dict):
            raise InputError("a snapshot must be an object with urn and aspects", where=where)
        urn = self.urn(body.get("urn"), _join(where, "urn"))
        if urn.type != entity_type:
            raise InputError(
                f"a {short} holds {entity_type} URNs, not {urn.text!r}", where=_join(where, "urn")
            )
        aspects = body.get("aspects") or []
        if not isinstance(aspects, list):
            raise InputError(f"expected a list, got {type(aspects).__name__}", where=_join(where, "aspects"))
        for index, wrapped in enumerate(aspects):
            place = _join(where, f"aspects[{index}]")
            if not isinstance(wrapped, dict) or len(wrapped) != 1:
                raise InputError(
                    "each aspect must be an object with one aspect class as its key", where=place
                )
            ((cls, value),) = wrapped.items()
            short_cls = cls.rpartition(".")[2]
            place = _join(place, short_cls)
            value = _plain(value, place)
            if not isinstance(value, dict):
                raise InputError(f"an aspect must be an object, got {type(value).__name__}", where=place)
            self.aspects.append(Aspect(urn, aspect_name(short_cls), value, place))

    def proposal(self, record: dict[str, Any], place: str) -> None:
        urn = self.urn(record.get("entityUrn"), _join(place, "entityUrn"))
        entity_type = record.get("entityType")
        if entity_type is not None and entity_type != urn.type:
            message = f"entityType {entity_type!r} does not match {urn.text!r}"
            raise InputError(message, where=_join(place, "entityType"))
        name = record.get("aspectName")
        if not isinstance(name, str) or not name:
            raise InputError("an MCP needs an aspectName (text)", where=_join(place, "aspectName"))
        change = record.get("changeType", "UPSERT")
        if change in ("DELETE", "PATCH"):
            self.writer.warn(f"{change.lower()} proposals not applied")
            return
        if change not in CHANGE_TYPES:
            raise InputError(f"unknown changeType {change!r}", where=_join(place, "changeType"))
        aspect = record.get("aspect")
        where = _join(place, "aspect")
        if aspect is None:
            raise InputError(f"an {change} proposal needs an aspect", where=where)
        if not isinstance(aspect, dict):
            raise InputError(f"expected an object, got {type(aspect).__name__}", where=where)
        if "json" in aspect:
            value, where = aspect["json"], _join(where, "json")
        elif "value" in aspect:
            content_type = aspect.get("contentType", "application/json")
            if content_type == "application/json-patch+json":
                self.writer.warn("patch proposals not applied")
                return
            if content_type != "application/json":
                raise InputError(
                    f"unsupported contentType {content_type!r}", where=_join(where, "contentType")
                )
            where = _join(where, "value")
            if not isinstance(aspect["value"], str):
                raise InputError("a serialised aspect value must be a JSON string", where=where)
            value = parse_json(where, aspect["value"], unique_keys=False)
        else:
            raise InputError("an aspect needs 'json' or 'value'", where=where)
        if not isinstance(value, dict):
            raise InputError(f"an aspect must be an object, got {type(value).__name__}", where=where)
        self.aspects.append(Aspect(urn, name, value, where))

    def urn(self, text: Any, where: str) -> Urn:
        """A parsed URN; files repeat an entity's URN once an aspect, so each is parsed once."""
        urn = self.parsed.get(text) if isinstance(text, str) else None
        if urn is None:
            try:
                urn = parse_urn(text)
            except ValueError as error:
                raise InputError(str(error), where=where) from None
            self.parsed[urn.text] = urn
        return urn


# ---------------------------------------------------------------- type checks


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InputError(f"expected a list, got {type(value).__name__}", where=where)
    return value


def _dict(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError(f"expected an object, got {type(value).__name__}", where=where)
    return value


def _text(value: Any, where: str) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dict | list):
        raise InputError(f"expected text, got {type(value).__name__}", where=where)
    return str(value)


def _millis(value: Any, where: str) -> Any:
    """Epoch milliseconds from a TimeStamp or AuditStamp (``{"time": ...}``) or a number; 0 is unset."""
    if isinstance(value, dict):
        value, where = value.get("time"), f"{where}.time"
    if value is None or value == 0:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"expected epoch milliseconds, got {type(value).__name__}", where=where)
    return value


def _number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


# ---------------------------------------------------------------- mapping


class _Mapper:
    """Aspects → records through one RecordWriter; :data:`_HANDLERS` says which method maps which aspect."""

    def __init__(self, minter: Minter, writer: RecordWriter) -> None:
        self.writer = writer
        self.identity = Identity(minter)
        self.described: dict[NamedNode, Entity] = {}
        self.current: NamedNode | None = None
        self.statuses: dict[NamedNode, str] = {}
        self.produced_by: dict[NamedNode, NamedNode] = {}
        self.feature_table: dict[NamedNode, NamedNode] = {}
        self.table_features: dict[NamedNode, list[NamedNode]] = {}
        self.sources: dict[NamedNode, list[NamedNode]] = {}
        self.deployed: set[str] = set()
        self.labels: dict[str, str] = {}

    def prepare(self, aspects: list[Aspect]) -> None:
        """Read first what identity and the shapes need: model groups and versions, training
        runs, deployed deployments, tag and term names (an mlModel's IRI depends on its group
        and version, which may come in a later record than the first one naming it)."""
        identity = self.identity
        for aspect in aspects:
            urn, value, where = aspect.urn, aspect.value, aspect.where
            if urn.type == "mlModel" and aspect.name == "mlModelProperties":
                groups = _list(value.get("groups"), f"{where}.groups")
                if groups:
                    group = self.entity(groups[0], f"{where}.groups[0]")
                    if group is None or not group.urn.startswith("urn:li:mlModelGroup:"):
                        raise InputError(
                            f"{groups[0]!r} is not an mlModelGroup URN", where=f"{where}.groups[0]"
                        )
                    identity.model_groups[urn.text] = groups[0]
                for job in _list(value.get("trainingJobs"), f"{where}.trainingJobs"):
                    if isinstance(job, str) and job.startswith("urn:li:dataProcessInstance:"):
                        identity.training_runs.add(job)
            if urn.type == "mlModel" and aspect.name in ("mlModelProperties", "versionProperties"):
                tag = _dict(value.get("version"), f"{where}.version").get("versionTag")
                if tag is not None and tag != "":
                    identity.model_versions[urn.text] = str(tag)
            elif urn.type == "dataProcessInstance" and (
                aspect.name == "mlTrainingRunProperties"
                or (aspect.name == "subTypes" and "TRAINING" in str(value.get("typeNames")).upper())
            ):
                identity.training_runs.add(urn.text)
            elif aspect.name in ("tagProperties", "glossaryTermInfo") and isinstance(value.get("name"), str):
                self.labels[urn.text] = value["name"]
        for aspect in aspects:
            if aspect.urn.type == "mlModel" and aspect.name == "mlModelProperties":
                model = self.entity(aspect.urn, aspect.where)
                if model is not None and model.kind == "model-version":
                    where = f"{aspect.where}.deployments"
                    self.deployed.update(d for d in _list(aspect.value.get("deployments"), where) if d)

    # -- nodes and edges

    def entity(self, urn: Any, where: str) -> Entity | None:
        try:
            return self.identity.of(urn)
        except ValueError as error:
            raise InputError(str(error), where=where) from None

    def describe(self, entity: Entity, where: str) -> None:
        """Make ``entity`` the node being described; the first time, say what every description must."""
        writer = self.writer
        if entity.iri == self.current:
            return
        writer.node(entity.iri, entity.kind)
        self.current = entity.iri
        if entity.iri in self.described:
            return
        self.described[entity.iri] = entity
        writer.attribute("name", entity.name, where)  # until an aspect names it
        writer.attribute("sourceRegistry", REGISTRY, where)
        writer.attribute("sourceId", entity.urn, where)
        if entity.kind in ("dataset", "job"):
            writer.attribute("namespace", entity.namespace, where)
            writer.attribute("qualifiedName", entity.qualified, where)
        if entity.env not in (None, "PROD"):
            writer.annotation("env", entity.env)
        writer.attribute("stage", entity.stage, where)
        parent = entity.parent
        if parent is not None:
            writer.edge("versionOf" if entity.kind == "model-version" else "partOf", self.refer(parent))
            writer.attribute("version", entity.version, where)

    def refer(self, entity: Entity) -> NamedNode:
        return self.writer.reference(entity.iri, entity.kind)

    def link(self, edge: str, urn: Any, where: str, kinds: frozenset[str]) -> Entity | None:
        """An edge from the node being described to the node ``urn`` names, if of a kind the
        shapes allow there; otherwise the URN is kept as an annotation."""
        target = self.entity(urn, where)
        if target is None or target.kind not in kinds:
            self.writer.annotation(edge, urn, warning=f"{edge} to an entity of another kind")
            return None
        self.writer.edge(edge, self.refer(target))
        return target

    def link_from(self, urn: Any, edge: str, entity: Entity, where: str, kinds: frozenset[str]) -> None:
        """The edge ``urn -edge-> entity``, written while describing ``entity``."""
        source = self.entity(urn, where)
        if source is None or source.kind not in kinds:
            self.writer.annotation(f"^{edge}", urn, warning=f"{edge} from an entity of another kind")
            return
        self.describe(source, where)
        self.writer.edge(edge, entity.iri)
        self.describe(entity, where)

    def status(self, entity: Entity, value: str, where: str) -> None:
        """Retired outranks deprecated, which outranks active, whatever the order of the aspects."""
        rank = ("active", "deprecated", "retired")
        current = self.statuses.get(entity.iri)
        if current is None or rank.index(value) >= rank.index(current):
            self.statuses[entity.iri] = value
            self.writer.attribute("status", value, where)

    def finish(self) -> None:
        """A feature table is derived from the sources of its features."""
        writer = self.writer
        for table, features in self.table_features.items():
            writer.node(table, "feature-view")
            for feature in features:
                for source in self.sources.get(feature, ()):
                    writer.edge("derivedFrom", source)

    # -- aspects

    def write(self, aspects: list[Aspect]) -> None:
        writer = self.writer
        for aspect in aspects:
            entity = self.entity(aspect.urn, aspect.where)
            if entity is None:
                writer.warn(f"{aspect.urn.type} aspects skipped")
                continue
            if entity.kind == "deployment" and entity.urn not in self.deployed:
                writer.warn("deployments of no model version skipped")
                continue
            if aspect.name.endswith("Key"):
                continue  # a key aspect restates the URN
            self.describe(entity, aspect.where)
            handler = _HANDLERS.get(aspect.name)
            if handler is None or (handler[1] and entity.kind not in handler[1]):
                writer.annotation(aspect.name, aspect.value, warning="unknown aspect")
                continue
            method, _, known = handler
            method(self, entity, aspect.value, aspect.where)
            self.leftovers(entity, aspect.value, known, aspect.where)

    def leftovers(self, entity: Entity, value: dict[str, Any], known: frozenset[str], where: str) -> None:
        """Fields of an aspect no rule reads, kept as annotations (false, null and empty say nothing)."""
        if value.keys() <= known:
            return
        for key, item in value.items():
            if key not in known and item is not None and item is not False and item not in ("", [], {}):
                self.describe(entity, where)
                self.writer.annotation(key, item, warning="unknown field")

    def properties(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        """What most *Properties aspects share: name, description, URL, times, custom properties."""
        writer = self.writer
        name = _text(value.get("name") or value.get("displayName"), f"{where}.name")
        writer.attribute("name", name, f"{where}.name")
        writer.attribute("description", _text(value.get("description"), f"{where}.description"), where)
        writer.attribute("sourceUrl", _text(value.get("externalUrl"), f"{where}.externalUrl"), where)
        created = value.get("created", value.get("createdAt"))
        writer.attribute("created", _millis(created, f"{where}.created"), f"{where}.created")
        modified = value.get("lastModified")
        writer.attribute("modified", _millis(modified, f"{where}.lastModified"), f"{where}.lastModified")
        self.custom(value, where)

    def custom(self, value: dict[str, Any], where: str) -> None:
        for key, item in _dict(value.get("customProperties"), f"{where}.customProperties").items():
            self.writer.annotation(key, item, warning="custom property")

    def description(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        self.writer.attribute("description", _text(value.get("description"), f"{where}.description"), where)

    def label(self, urn: Any, where: str, prefix: str) -> str:
        if not isinstance(urn, str) or not urn.startswith(prefix) or urn == prefix:
            raise InputError(f"expected a {prefix}<name> URN, got {urn!r}", where=where)
        return self.labels.get(urn) or urn[len(prefix) :]

    def tags(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        for index, item in enumerate(_list(value.get("tags"), f"{where}.tags")):
            place = f"{where}.tags[{index}]"
            tag = self.label(_dict(item, place).get("tag"), f"{place}.tag", "urn:li:tag:")
            self.writer.attribute("tag", tag, place)
            self.writer.attribute("classification", classification(tag), place)
            stage = _MLFLOW_STAGE.fullmatch(tag)
            if stage and entity.kind == "model-version":
                self.writer.attribute("stage", stage.group(1), place)

    def terms(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        for index, item in enumerate(_list(value.get("terms"), f"{where}.terms")):
            place = f"{where}.terms[{index}]"
            term = self.label(_dict(item, place).get("urn"), f"{place}.urn", "urn:li:glossaryTerm:")
            self.writer.attribute("tag", term, place)
            self.writer.attribute("classification", classification(term), place)

    def metrics(self, items: Any, where: str) -> None:
        for index, item in enumerate(_list(items, where)):
            place = f"{where}[{index}]"
            item = _dict(item, place)
            name, value = _text(item.get("name"), f"{place}.name"), item.get("value")
            if name and _number(value):
                self.writer.metric(name, value, f"{place}.value")
            elif name:
                self.writer.annotation(f"metric.{name}", value, warning="metric that is not a number")

    def parameters(self, value: dict[str, Any], where: str) -> None:
        for index, item in enumerate(_list(value.get("hyperParams"), f"{where}.hyperParams")):
            place = f"{where}.hyperParams[{index}]"
            item = _dict(item, place)
            name = _text(item.get("name"), f"{place}.name")
            if name:
                self.writer.parameter(name, item.get("value"), place)
        for name, item in _dict(value.get("hyperParameters"), f"{where}.hyperParameters").items():
            self.writer.parameter(name, item, f"{where}.hyperParameters.{name}")

    def urns(self, value: dict[str, Any], key: str, where: str, edges: str = "") -> list[Any]:
        """A list of URNs, plus those of the list of edges (``{"destinationUrn": ...}``) beside it."""
        found = list(_list(value.get(key), f"{where}.{key}"))
        for index, edge in enumerate(_list(value.get(edges), f"{where}.{edges}") if edges else ()):
            found.append(_dict(edge, f"{where}.{edges}[{index}]").get("destinationUrn"))
        return found

    # datasets and fields

    def dataset_properties(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        self.properties(entity, value, where)
        self.writer.attribute("tag", _list(value.get("tags"), f"{where}.tags"), f"{where}.tags")
        uri = _text(value.get("uri"), f"{where}.uri")
        if uri and _STORAGE_URI.match(uri):
            try:
                other = self.identity.minter.dataset_from_uri(uri)
            except InputError:
                other = entity.iri
            if other != entity.iri:
                self.writer.same_as(other)
        elif uri:
            self.writer.annotation("uri", uri, warning="unknown field")

    def schema(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        if value.get("platformSchema"):
            self.writer.warn("platform schema text not kept")
        key = "editableSchemaFieldInfo" if "editableSchemaFieldInfo" in value else "fields"
        for index, item in enumerate(_list(value.get(key), f"{where}.{key}")):
            place = f"{where}.{key}[{index}]"
            item = _dict(item, place)
            raw = _text(item.get("fieldPath"), f"{place}.fieldPath")
            if raw is None:
                raise InputError("a schema field needs a fieldPath", where=place)
            field = self.identity.field(entity, raw, f"urn:li:schemaField:({entity.urn},{raw})")
            self.describe(field, place)
            data_type = item.get("nativeDataType") or _dict(item.get("type"), f"{place}.type").get("type")
            if isinstance(data_type, dict) and len(data_type) == 1:
                data_type = next(iter(data_type)).rpartition(".")[2]  # {"...StringType": {}} → StringType
            self.writer.attribute("dataType", _text(data_type, f"{place}.nativeDataType"), place)
            self.description(field, item, place)
            tags = f"{place}.globalTags"
            self.tags(field, _dict(item.get("globalTags"), tags), tags)
            terms = f"{place}.glossaryTerms"
            self.terms(field, _dict(item.get("glossaryTerms"), terms), terms)
            if field.name != raw:
                self.writer.annotation("fieldPath", raw)
            self.leftovers(field, item, _FIELD_KEYS, place)
        self.describe(entity, where)

    def lineage(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        for index, item in enumerate(_list(value.get("upstreams"), f"{where}.upstreams")):
            place = f"{where}.upstreams[{index}]"
            self.link("derivedFrom", _dict(item, place).get("dataset"), f"{place}.dataset", _DATA)
        self.column_lineage(entity, value, where)

    def column_lineage(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        """Each downstream field is derived from each upstream field (or dataset) of a column lineage."""
        for index, item in enumerate(_list(value.get("fineGrainedLineages"), f"{where}.fineGrainedLineages")):
            place = f"{where}.fineGrainedLineages[{index}]"
            item = _dict(item, place)
            upstreams = _list(item.get("upstreams"), f"{place}.upstreams")
            downstreams = _list(item.get("downstreams"), f"{place}.downstreams")
            if not downstreams:
                self.writer.annotation(
                    "fineGrainedLineage", item, warning="column lineage without downstreams"
                )
            for urn in downstreams:
                field = self.entity(urn, f"{place}.downstreams")
                if field is None or field.kind != "field":
                    raise InputError(f"{urn!r} is not a schemaField URN", where=f"{place}.downstreams")
                self.describe(field, place)
                for upstream in upstreams:
                    self.link("derivedFrom", upstream, f"{place}.upstreams", _DATA)
                self.describe(entity, where)

    # jobs and pipelines

    def job_io(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        inputs = self.urns(value, "inputDatasets", where, "inputDatasetEdges")
        for urn in inputs + self.urns(value, "inputDatasetFields", where):
            self.link("used", urn, f"{where}.inputDatasets", _ENTITIES)
        for urn in self.urns(value, "inputDatajobs", where, "inputDatajobEdges"):
            self.writer.annotation("inputDatajob", urn, warning="job-to-job dependency")
        outputs = self.urns(value, "outputDatasets", where, "outputDatasetEdges")
        for urn in outputs + self.urns(value, "outputDatasetFields", where):
            self.link_from(urn, "producedBy", entity, f"{where}.outputDatasets", _DATA)
        self.column_lineage(entity, value, where)

    # models

    def model_properties(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        self.properties(entity, value, where)
        writer = self.writer
        if "created" not in value:
            writer.attribute("created", _millis(value.get("date"), f"{where}.date"), f"{where}.date")
        version = _text(_dict(value.get("version"), f"{where}.version").get("versionTag"), f"{where}.version")
        if version and entity.kind != "model-version":
            writer.annotation("version", version)
        writer.attribute("tag", _list(value.get("tags"), f"{where}.tags"), f"{where}.tags")
        self.parameters(value, where)
        self.metrics(value.get("trainingMetrics"), f"{where}.trainingMetrics")
        self.metrics(value.get("onlineMetrics"), f"{where}.onlineMetrics")
        for urn in _list(value.get("mlFeatures"), f"{where}.mlFeatures"):
            self.link("usesFeature", urn, f"{where}.mlFeatures", frozenset({"feature"}))
        for urn in _list(value.get("trainingJobs"), f"{where}.trainingJobs"):
            self.trained_by(entity, urn, f"{where}.trainingJobs")
        groups = _list(value.get("groups"), f"{where}.groups")
        for urn in groups[1:] if entity.kind == "model-version" else groups:
            writer.annotation("group", urn, warning="model group beyond the first")
        for urn in _list(value.get("deployments"), f"{where}.deployments"):
            if entity.kind == "model-version":
                self.link_from(urn, "deploys", entity, f"{where}.deployments", frozenset({"deployment"}))
            else:
                writer.annotation("deployment", urn, warning="deployment of a model that is not a version")

    def trained_by(self, entity: Entity, urn: Any, where: str) -> None:
        """A model version is produced by one run (so say the shapes); other training jobs are annotations."""
        job = self.entity(urn, where)
        current = self.produced_by.get(entity.iri)
        runs = _RUNS if entity.kind == "model-version" else _ACTIVITIES
        if job is None or job.kind not in runs or current not in (None, job.iri):
            self.writer.annotation("trainingJob", urn, warning="training job that is not its one run")
            return
        self.produced_by[entity.iri] = job.iri
        self.writer.edge("producedBy", self.refer(job))

    def version_properties(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        for index, alias in enumerate(_list(value.get("aliases"), f"{where}.aliases")):
            tag = _dict(alias, f"{where}.aliases[{index}]").get("versionTag")
            self.writer.attribute("alias", _text(tag, f"{where}.aliases[{index}]"), where)

    def training_data(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        for index, item in enumerate(_list(value.get("trainingData"), f"{where}.trainingData")):
            place = f"{where}.trainingData[{index}]"
            self.link("trainedOn", _dict(item, place).get("dataset"), f"{place}.dataset", _DATA)

    # features

    def feature_properties(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        self.properties(entity, value, where)
        self.writer.attribute("dataType", _text(value.get("dataType"), f"{where}.dataType"), where)
        for urn in _list(value.get("sources"), f"{where}.sources"):
            source = self.link("derivedFrom", urn, f"{where}.sources", _DATA)
            if source is not None:
                self.sources.setdefault(entity.iri, []).append(source.iri)

    def feature_table(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        self.properties(entity, value, where)
        members = self.table_features.setdefault(entity.iri, [])
        for key in ("mlFeatures", "mlPrimaryKeys"):
            for urn in _list(value.get(key), f"{where}.{key}"):
                feature = self.entity(urn, f"{where}.{key}")
                if feature is None or feature.kind not in ("feature", "field"):
                    raise InputError(
                        f"{urn!r} is not an mlFeature or mlPrimaryKey URN", where=f"{where}.{key}"
                    )
                members.append(feature.iri)
                self.describe(feature, where)
                if self.feature_table.setdefault(feature.iri, entity.iri) == entity.iri:
                    self.writer.edge("partOf", entity.iri)
                else:
                    self.writer.annotation("featureTable", entity.urn, warning="feature in a second table")
        self.describe(entity, where)

    # runs

    def run_io(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        for urn in self.urns(value, "inputs", where, "inputEdges"):
            self.link("used", urn, f"{where}.inputs", _ENTITIES)
        for urn in self.urns(value, "outputs", where, "outputEdges"):
            output = self.entity(urn, f"{where}.outputs")
            if output is not None and output.kind == "model-version":
                self.describe(output, where)
                self.trained_by(output, entity.urn, f"{where}.outputs")
                self.describe(entity, where)
            else:
                self.link_from(urn, "producedBy", entity, f"{where}.outputs", _DATA | {"model"})

    def run_relationships(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        for key in ("parentTemplate", "parentInstance"):
            if value.get(key):
                self.link("partOf", value[key], f"{where}.{key}", _ASSETS)
        for urn in _list(value.get("upstreamInstances"), f"{where}.upstreamInstances"):
            self.writer.annotation("upstreamInstance", urn, warning="run-to-run dependency")

    def run_event(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        moment = _millis(value.get("timestampMillis"), f"{where}.timestampMillis")
        status = value.get("status")
        if status == "STARTED":
            self.writer.attribute("startedAt", moment, f"{where}.timestampMillis")
            self.writer.attribute("runState", "running", where)
        elif status == "COMPLETE":
            self.writer.attribute("endedAt", moment, f"{where}.timestampMillis")
            result = _dict(value.get("result"), f"{where}.result").get("type")
            self.writer.attribute("runState", _RUN_RESULTS.get(str(result), "completed"), where)
        elif status:
            self.writer.annotation("status", status, warning="unknown field")

    def training_run(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        self.writer.attribute("sourceUrl", _text(value.get("externalUrl"), f"{where}.externalUrl"), where)
        self.parameters(value, where)
        self.metrics(value.get("trainingMetrics"), f"{where}.trainingMetrics")
        self.custom(value, where)

    def sub_types(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        if entity.kind not in _RUNS:
            self.writer.annotation("subTypes", value, warning="unknown aspect")

    def deployment(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        self.properties(entity, value, where)
        status = value.get("status")
        if status in _DEPLOYMENT_STATUS:
            self.status(entity, _DEPLOYMENT_STATUS[status], f"{where}.status")
        elif status:
            self.writer.annotation("status", status, warning="unknown field")

    # governance

    def ownership(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        if entity.kind in _AGENTS:
            self.writer.annotation("ownership", value, warning="unknown aspect")
            return
        for index, item in enumerate(_list(value.get("owners"), f"{where}.owners")):
            place = f"{where}.owners[{index}]"
            self.link("ownedBy", _dict(item, place).get("owner"), f"{place}.owner", _AGENTS)

    def removed(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        if value.get("removed") is True and entity.kind not in _AGENTS:
            self.status(entity, "retired", f"{where}.removed")

    def deprecation(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        if value.get("deprecated") is True and entity.kind not in _AGENTS:
            self.status(entity, "deprecated", f"{where}.deprecated")

    # people

    def user(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        name = value.get("displayName") or value.get("fullName")
        if not name and (value.get("firstName") or value.get("lastName")):
            name = " ".join(str(p) for p in (value.get("firstName"), value.get("lastName")) if p)
        name = _text(name, f"{where}.displayName")
        self.writer.attribute("name", name, where)
        self.writer.attribute("email", _text(value.get("email"), f"{where}.email"), where)
        self.writer.attribute("description", _text(value.get("aboutMe"), f"{where}.aboutMe"), where)
        self.custom(value, where)

    def membership(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        for key in ("groups", "nativeGroups"):
            for urn in _list(value.get(key), f"{where}.{key}"):
                self.link("memberOf", urn, f"{where}.{key}", _TEAMS)

    def group(self, entity: Entity, value: dict[str, Any], where: str) -> None:
        self.properties(entity, value, where)
        self.writer.attribute("email", _text(value.get("email"), f"{where}.email"), where)
        for urn in _list(value.get("members"), f"{where}.members"):
            self.link_from(urn, "memberOf", entity, f"{where}.members", frozenset({"person"}))
        for key in ("admins", "groups"):
            if value.get(key):
                self.writer.annotation(key, value[key], warning="unknown field")


_COMMON = frozenset({"name", "displayName", "description", "externalUrl", "createdAt", "customProperties"})
_AUDIT = frozenset({"lastModified", "created", "deleted", "auditStamp", "actor", "ownerTypes"})
_FIELD_KEYS = frozenset({"fieldPath", "nativeDataType", "type", "description", "globalTags", "glossaryTerms"})
_FIELD_KEYS |= {"nullable", "recursive"} | _AUDIT
_MODELS = frozenset({"model", "model-version"})
_ANY: frozenset[str] = frozenset()


def _rule(method: Any, kinds: frozenset[str], *keys: str, common: bool = False) -> tuple[Any, ...]:
    """How to map an aspect: the method, the kinds it applies to (any if empty), the fields it reads."""
    return (method, kinds, frozenset(keys) | _AUDIT | (_COMMON if common else _ANY))


_M = _Mapper
_HANDLERS: dict[str, tuple[Any, frozenset[str], frozenset[str]]] = {
    "datasetProperties": _rule(_M.dataset_properties, frozenset({"dataset"}), "tags", "uri", common=True),
    "editableDatasetProperties": _rule(_M.description, frozenset({"dataset"}), "description"),
    "schemaMetadata": _rule(
        _M.schema,
        frozenset({"dataset"}),
        "fields",
        "schemaName",
        "platform",
        "version",
        "hash",
        "platformSchema",
    ),
    "editableSchemaMetadata": _rule(_M.schema, frozenset({"dataset"}), "editableSchemaFieldInfo"),
    "upstreamLineage": _rule(_M.lineage, frozenset({"dataset"}), "upstreams", "fineGrainedLineages"),
    "dataJobInputOutput": _rule(
        _M.job_io,
        frozenset({"job"}),
        *("inputDatasets", "inputDatasetEdges", "outputDatasets", "outputDatasetEdges", "inputDatajobs"),
        *("inputDatajobEdges", "inputDatasetFields", "outputDatasetFields", "fineGrainedLineages"),
    ),
    "dataJobInfo": _rule(_M.properties, frozenset({"job"}), "flowUrn", "env", common=True),
    "dataFlowInfo": _rule(_M.properties, frozenset({"pipeline"}), "env", common=True),
    "editableDataJobProperties": _rule(_M.description, frozenset({"job"}), "description"),
    "editableDataFlowProperties": _rule(_M.description, frozenset({"pipeline"}), "description"),
    "mlModelProperties": _rule(
        _M.model_properties,
        _MODELS,
        *("date", "version", "tags", "hyperParams", "hyperParameters", "trainingMetrics", "onlineMetrics"),
        *("mlFeatures", "trainingJobs", "groups", "deployments"),
        common=True,
    ),
    "versionProperties": _rule(_M.version_properties, _MODELS, "aliases", "version", "versionSet", "sortId"),
    "mlModelGroupProperties": _rule(_M.properties, _MODELS, common=True),
    "editableMlModelProperties": _rule(_M.description, _MODELS, "description"),
    "editableMlModelGroupProperties": _rule(_M.description, _MODELS, "description"),
    "mlModelTrainingData": _rule(_M.training_data, _MODELS, "trainingData"),
    "mlFeatureProperties": _rule(
        _M.feature_properties, frozenset({"feature"}), "dataType", "sources", common=True
    ),
    "mlPrimaryKeyProperties": _rule(
        _M.feature_properties, frozenset({"field"}), "dataType", "sources", common=True
    ),
    "editableMlFeatureProperties": _rule(_M.description, frozenset({"feature"}), "description"),
    "editableMlPrimaryKeyProperties": _rule(_M.description, frozenset({"field"}), "description"),
    "mlFeatureTableProperties": _rule(
        _M.feature_table, frozenset({"feature-view"}), "mlFeatures", "mlPrimaryKeys", common=True
    ),
    "editableMlFeatureTableProperties": _rule(_M.description, frozenset({"feature-view"}), "description"),
    "dataProcessInstanceProperties": _rule(_M.properties, _RUNS, common=True),
    "dataProcessInstanceInput": _rule(_M.run_io, _RUNS, "inputs", "inputEdges"),
    "dataProcessInstanceOutput": _rule(_M.run_io, _RUNS, "outputs", "outputEdges"),
    "dataProcessInstanceRelationships": _rule(
        _M.run_relationships, _RUNS, "parentTemplate", "parentInstance", "upstreamInstances"
    ),
    "dataProcessInstanceRunEvent": _rule(
        _M.run_event, _RUNS, "timestampMillis", "status", "result", "eventGranularity", "partitionSpec"
    ),
    "mlTrainingRunProperties": _rule(
        _M.training_run, _RUNS, "externalUrl", "hyperParams", "trainingMetrics", "customProperties", "id"
    ),
    "subTypes": _rule(_M.sub_types, _ANY, "typeNames"),
    "mlModelDeploymentProperties": _rule(_M.deployment, frozenset({"deployment"}), "status", common=True),
    "ownership": _rule(_M.ownership, _ANY, "owners"),
    "status": _rule(_M.removed, _ANY, "removed"),
    "deprecation": _rule(_M.deprecation, _ANY, "deprecated"),
    "globalTags": _rule(_M.tags, _ANY, "tags"),
    "glossaryTerms": _rule(_M.terms, _ANY, "terms"),
    "corpUserInfo": _rule(
        _M.user,
        frozenset({"person"}),
        *("displayName", "fullName", "firstName", "lastName", "email", "active", "customProperties"),
    ),
    "corpUserEditableInfo": _rule(_M.user, frozenset({"person"}), "displayName", "email", "aboutMe"),
    "groupMembership": _rule(_M.membership, frozenset({"person"}), "groups"),
    "nativeGroupMembership": _rule(_M.membership, frozenset({"person"}), "nativeGroups"),
    "corpGroupInfo": _rule(
        _M.group, frozenset({"team"}), "email", "members", "admins", "groups", common=True
    ),
    "corpGroupEditableInfo": _rule(_M.group, frozenset({"team"}), "email", common=True),
}


# ---------------------------------------------------------------- the format

_SNAPSHOT = re.compile(rb'"proposedSnapshot"\s*:\s*\{\s*"com\.linkedin\.[a-z0-9.]*snapshot\.')
_PROPOSAL = re.compile(rb'"entityUrn"\s*:\s*"urn:li:')
_PROPOSAL_KEY = re.compile(rb'"(changeType|aspectName)"\s*:')


def _sniff(path: Path, head: bytes) -> bool:
    """An array or object whose first record is an MCE snapshot or an MCP, whatever the file's name."""
    if head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] not in (b"[", b"{"):
        return False
    return bool(_SNAPSHOT.search(head) or (_PROPOSAL.search(head) and _PROPOSAL_KEY.search(head)))


def _load(request: Request) -> Submission:
    writer = RecordWriter(request.minter)
    try:
        aspects = _Records(request.location, writer).read(request.data)
        mapper = _Mapper(request.minter, writer)
        mapper.prepare(aspects)
        mapper.write(aspects)
        mapper.finish()
    except RecursionError:
        raise InputError("nested too deeply", where=request.location) from None
    return submission(request, "datahub", writer)


FORMATS = [
    Format(
        "datahub",
        (".json", ".jsonl"),
        "DataHub metadata file: MCEs and MCPs as DataHub's file sink writes them (JSON array or JSON lines)",
        _sniff,
        _load,
    )
]
