"""Backstage catalog descriptor files (``catalog-info.yaml``): the services around the models.

A Backstage catalog says who owns what, which component calls which API and which
database, and how systems and domains group them: the downstream half of lineage,
from a model's deployment to the services and teams it serves. One file holds one
or more entities (YAML documents)::

    apiVersion: backstage.io/v1alpha1
    kind: Component
    metadata: {name: checkout-api, title: Checkout API}
    spec:
      type: service
      lifecycle: production
      owner: checkout-platform            # group:default/checkout-platform
      system: payments
      dependsOn: ['resource:orders-db']
      consumesApis: [fraud-scoring]       # api:default/fraud-scoring

References are resolved as Backstage resolves them, ``[kind:][namespace/]name`` with
the default kind of each field and the entity's own namespace, and compared in
lower case (Backstage's canonical form). IRIs are minted so that
``group:default/fraud-ml`` is the manifest's ``team:fraud-ml``; Backstage kinds that
share an mlg kind are kept apart: an API is ``service/api:NAME`` (a component and its
API often share a name), a domain ``system/domain:NAME``. Entities of another
namespace are named ``NAMESPACE/NAME``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pyoxigraph import NamedNode

from mlg.errors import InputError
from mlg.identity import Minter, split_dataset_uri
from mlg.loaders import Format, Request
from mlg.loaders.documents import parse_yaml
from mlg.loaders.mapping import RecordWriter, submission
from mlg.submission import Submission

FORMAT = "backstage"
API_VERSIONS = ("backstage.io/v1alpha1", "backstage.io/v1beta1")
DEFAULT_NAMESPACE = "default"

# Backstage kind (lower case) -> the mlg kind it becomes and the prefix that keeps kinds
# sharing an mlg kind apart (see the module docstring).
KINDS = {
    "component": ("service", ""),
    "api": ("service", "api:"),
    "resource": ("dataset", ""),
    "system": ("system", ""),
    "domain": ("system", "domain:"),
    "group": ("team", ""),
    "user": ("person", ""),
}
MODEL_VERSION_ANNOTATION = "mlg.io/model-version"
DATASET_ANNOTATION = "mlg.io/dataset"
# API types that serve a model: with the model-version annotation they become deployments.
MODEL_API_TYPES = {"ai-model-server", "model-serving", "model-server", "ml-model", "inference"}
# Resource types that hold data; any other resource is still a dataset (a reference from
# another file cannot know the type), with a warning.
_STORES = {"database", "table", "view", "dataset", "warehouse", "file", "storage"}
DATA_RESOURCE_TYPES = _STORES | {
    "bucket",
    "s3-bucket",
    "gcs-bucket",
    "topic",
    "kafka-topic",
    "queue",
    "stream",
}
METADATA_READ = {"name", "namespace", "title", "description", "tags", "links", "annotations", "labels"}
# Lifecycles that name one of the statuses the shapes allow.
STATUS_OF_LIFECYCLE = {"production": "active", "experimental": "experimental", "deprecated": "deprecated"}


@dataclass(frozen=True)
class Field:
    """A spec field holding references: the kinds it may name and the edge it becomes."""

    default_kind: str | None
    """The kind of a reference that names none (None: the reference must name one)."""
    kinds: tuple[str, ...]
    many: bool
    edge: str | None
    """The mlg edge; None where the ontology has none yet (kept as an annotation)."""
    inverse: bool = False
    """The edge goes from the entity named to this one (the API is served by its component)."""


FIELDS = {
    "owner": Field("group", ("group", "user"), False, "ownedBy"),
    "system": Field("system", ("system",), False, "partOf"),
    "domain": Field("domain", ("domain",), False, "partOf"),
    "subdomainOf": Field("domain", ("domain",), False, "partOf"),
    "subcomponentOf": Field("component", ("component",), False, "partOf"),
    "dependsOn": Field(None, ("component", "resource", "api"), True, "dependsOn"),
    "dependencyOf": Field(None, ("component", "resource", "api"), True, "dependsOn", inverse=True),
    "consumesApis": Field("api", ("api",), True, "consumes"),
    "providesApis": Field("api", ("api",), True, "dependsOn", inverse=True),
    "memberOf": Field("group", ("group",), True, "memberOf"),
    "members": Field("user", ("user",), True, "memberOf", inverse=True),
    "parent": Field("group", ("group",), False, "memberOf"),
    "children": Field("group", ("group",), True, None),
}
# The reference fields each kind reads; other spec fields are kept as annotations.
_OWNED = ("owner", "system")
SPEC_REFERENCES = {
    "component": (*_OWNED, "subcomponentOf", "providesApis", "consumesApis", "dependsOn", "dependencyOf"),
    "api": _OWNED,
    "resource": (*_OWNED, "dependsOn", "dependencyOf"),
    "system": ("owner", "domain"),
    "domain": ("owner", "subdomainOf"),
    "group": ("parent", "children", "members"),
    "user": ("memberOf",),
}


@dataclass(frozen=True)
class Ref:
    """A Backstage entity reference in canonical (lower-case) form."""

    kind: str
    namespace: str
    name: str
    written: str = field(default="", compare=False)
    """The name as the file wrote it, for display."""

    def __str__(self) -> str:
        return f"{self.kind}:{self.namespace}/{self.name}"

    @property
    def identifier(self) -> str:
        """The id part of the IRI: the name, under its namespace unless that is ``default``."""
        return self.name if self.namespace == DEFAULT_NAMESPACE else f"{self.namespace}/{self.name}"


def parse_ref(value: Any, context: Field, namespace: str, where: str) -> Ref:
    """``[kind:][namespace/]name`` (or ``{kind, namespace, name}``), as Backstage's parseEntityRef."""
    if isinstance(value, dict):
        parts = {key: value.get(key) for key in ("kind", "namespace", "name")}
        if set(value) - set(parts) or not all(p is None or isinstance(p, str) for p in parts.values()):
            raise InputError(
                "a compound entity reference has text kind, namespace and name only", where=where
            )
        kind, ref_namespace, name = parts["kind"], parts["namespace"], parts["name"]
    elif isinstance(value, str):
        colon, slash = value.find(":"), value.find("/")
        if slash != -1 and slash < colon:
            colon = -1  # a '/' before the ':' makes the rest the name
        kind = value[:colon] if colon != -1 else None
        ref_namespace = value[colon + 1 : slash] if slash != -1 else None
        name = value[max(colon + 1, slash + 1) :]
    else:
        raise InputError(
            f"expected an entity reference ([kind:][namespace/]name), got {_type(value)}", where=where
        )
    kind = kind if kind is not None else context.default_kind
    ref_namespace = ref_namespace if ref_namespace is not None else namespace
    if not name or kind == "" or ref_namespace == "":
        raise InputError(
            f"entity reference {value!r} is not of the form [kind:][namespace/]name", where=where
        )
    if kind is None:
        raise InputError(
            f"entity reference {value!r} needs a kind here, such as component:{name} or resource:{name}",
            where=where,
        )
    if kind.lower() not in KINDS:
        raise InputError(f"unknown entity kind {kind!r} in {value!r}; known: {', '.join(KINDS)}", where=where)
    if kind.lower() not in context.kinds:
        allowed = " or ".join(context.kinds)
        raise InputError(f"{value!r} is a {kind.lower()}; this field names a {allowed}", where=where)
    return Ref(kind.lower(), ref_namespace.lower(), name.lower(), name)


def _type(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


@dataclass
class Entity:
    """One Backstage document, with the node it becomes."""

    index: int
    ref: Ref
    metadata: dict[str, Any]
    spec: dict[str, Any]
    extra: dict[str, Any]
    iri: NamedNode
    kind: str
    """The mlg kind: service, deployment, dataset, system, team or person."""
    place: str
    """Where it is in the file, for messages: ``catalog-info.yaml: document 2``."""
    annotations: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    same_as: NamedNode | None = None
    """The IRI other files reach this entity by, when this file names it better."""
    deploys: list[NamedNode] = field(default_factory=list)


def default_node(minter: Minter, ref: Ref) -> tuple[NamedNode, str]:
    """The node a reference names when the file does not describe the entity."""
    kind, prefix = KINDS[ref.kind]
    if ref.kind == "resource":
        return minter.asset("dataset", f"backstage:{ref.namespace}/{ref.name}"), kind
    return minter.asset(kind, prefix + ref.identifier), kind


class Catalog:
    """One descriptor file being turned into records."""

    def __init__(self, location: str, minter: Minter) -> None:
        self.location = location
        self.minter = minter
        self.writer = RecordWriter(minter)
        self.entities: dict[Ref, Entity] = {}
        self.inverse: list[tuple[Ref, str, NamedNode, str]] = []
        """Edges this file states from an entity to another: (subject, edge, target, where)."""

    def where(self, entity: Entity | int, path: str = "") -> str:
        place = f"{self.location}: document {entity + 1}" if isinstance(entity, int) else entity.place
        return f"{place}, {path}" if path else place

    # -- reading the envelope ----------------------------------------------------

    def read(self, documents: list[Any]) -> None:
        """Name every entity first, so references can point forwards and to the better IRI."""
        for index, document in enumerate(documents):
            if document is None:
                continue  # an empty document, such as a trailing '---'
            entity = self.entity(index, document)
            if entity is None:
                continue
            if entity.ref in self.entities:
                first = self.entities[entity.ref].index + 1
                raise InputError(
                    f"{entity.ref} is already declared by document {first}", where=self.where(index)
                )
            self.entities[entity.ref] = entity

    def entity(self, index: int, document: Any) -> Entity | None:
        if not isinstance(document, dict):
            raise InputError(f"an entity is a mapping, not {_type(document)}", where=self.where(index))
        api_version, kind = document.get("apiVersion"), document.get("kind")
        for key, value in (("apiVersion", api_version), ("kind", kind)):
            if not isinstance(value, str) or not value:
                raise InputError(f"'{key}' is required (text)", where=self.where(index, key))
        if kind.lower() not in KINDS:
            self.writer.warn("unsupported kind")
            return None
        if api_version not in API_VERSIONS:
            self.writer.warn("unsupported apiVersion (skipped)")
            return None
        metadata = document.get("metadata")
        if not isinstance(metadata, dict):
            raise InputError(
                f"'metadata' must be a mapping, not {_type(metadata)}", where=self.where(index, "metadata")
            )
        spec = document.get("spec")
        spec = {} if spec is None else spec
        if not isinstance(spec, dict):
            raise InputError(f"'spec' must be a mapping, not {_type(spec)}", where=self.where(index, "spec"))
        name = metadata.get("name")
        if not isinstance(name, str) or not name.strip() or ":" in name or "/" in name:
            raise InputError(
                "metadata.name is required: text without ':' or '/'", where=self.where(index, "metadata.name")
            )
        namespace = metadata.get("namespace", DEFAULT_NAMESPACE)
        if not isinstance(namespace, str) or not namespace.strip() or ":" in namespace or "/" in namespace:
            raise InputError(
                "metadata.namespace must be text without ':' or '/'",
                where=self.where(index, "metadata.namespace"),
            )
        ref = Ref(kind.lower(), namespace.lower(), name.lower(), name)
        extra = {k: v for k, v in document.items() if k not in ("apiVersion", "kind", "metadata", "spec")}
        iri, mlg_kind = default_node(self.minter, ref)
        entity = Entity(index, ref, metadata, spec, extra, iri, mlg_kind, self.where(index))
        annotations = entity.annotations = self.mapping(entity, "annotations")
        entity.labels = self.mapping(entity, "labels")
        if ref.kind == "api" and MODEL_VERSION_ANNOTATION in annotations:
            # It serves a model: a deployment, which files that only reference the API reach by sameAs.
            entity.deploys = self.model_versions(entity, annotations[MODEL_VERSION_ANNOTATION])
            entity.iri, entity.kind = self.minter.asset("deployment", ref.identifier), "deployment"
            entity.same_as = iri
        elif ref.kind == "resource" and DATASET_ANNOTATION in annotations:
            # Named by its location, as OpenLineage names it; other files reach it by sameAs.
            try:
                entity.iri = self.minter.dataset_from_uri(annotations[DATASET_ANNOTATION])
            except InputError as error:
                where = self.where(entity, f"metadata.annotations.{DATASET_ANNOTATION}")
                raise InputError(error.message, where=where) from None
            entity.same_as = iri
        return entity

    def mapping(self, entity: Entity, key: str) -> dict[str, str]:
        """metadata.annotations or metadata.labels: text keys to text values, as Backstage requires."""
        value = entity.metadata.get(key) or {}
        if not isinstance(value, dict):
            raise InputError(
                f"must be a mapping, not {_type(value)}", where=self.where(entity, f"metadata.{key}")
            )
        for name, text in value.items():
            if not isinstance(name, str) or not isinstance(text, str):
                raise InputError(
                    "keys and values must be text", where=self.where(entity, f"metadata.{key}.{name}")
                )
        return value

    def model_versions(self, entity: Entity, value: str) -> list[NamedNode]:
        where = self.where(entity, f"metadata.annotations.{MODEL_VERSION_ANNOTATION}")
        versions = []
        for item in (part.strip() for part in value.split(",")):
            ref = item if item.startswith("model-version:") else f"model-version:{item}"
            model, _, version = ref.removeprefix("model-version:").rpartition("@")
            if not model or not version:
                raise InputError(f"{item!r} is not model-version:NAME@VERSION", where=where)
            versions.append(self.minter.reference(ref))
        return [v for v in versions if v is not None]

    # -- references ----------------------------------------------------------------

    def resolve(self, entity: Entity, key: str) -> list[Ref]:
        """The references of a spec field, checked against what the field may name."""
        context = FIELDS[key]
        value = entity.spec.get(key)
        if value is None:
            return []
        where = self.where(entity, f"spec.{key}")
        if context.many != isinstance(value, list):
            wanted = "a list of entity references" if context.many else "one entity reference"
            raise InputError(f"expected {wanted}, got {_type(value)}", where=where)
        if not context.many:
            return [parse_ref(value, context, entity.ref.namespace, where)]
        return [
            parse_ref(item, context, entity.ref.namespace, f"{where}[{i}]") for i, item in enumerate(value)
        ]

    def node_of(self, ref: Ref) -> tuple[NamedNode, str]:
        """The node a reference names: the one this file describes, else the one every file mints."""
        local = self.entities.get(ref)
        return (local.iri, local.kind) if local else default_node(self.minter, ref)

    def target(self, ref: Ref) -> NamedNode:
        iri, kind = self.node_of(ref)
        return self.writer.reference(iri, kind)

    # -- describing ----------------------------------------------------------------

    def write(self) -> None:
        for entity in self.entities.values():
            self.describe(entity)
        for subject, edge, target, where in self.inverse:
            self.state_inverse(subject, edge, target, where)

    def describe(self, entity: Entity) -> None:
        writer = self.writer
        writer.node(entity.iri, entity.kind)
        self.metadata(entity)
        writer.attribute("sourceRegistry", FORMAT, entity.place)
        writer.attribute("sourceId", str(entity.ref), entity.place)
        if entity.same_as is not None:
            writer.same_as(entity.same_as)
        for version in entity.deploys:
            writer.edge("deploys", writer.reference(version, "model-version"))
        spec = entity.spec
        kind = entity.ref.kind
        if kind == "resource" and entity.same_as is not None:  # named by its location
            namespace, name = split_dataset_uri(entity.annotations[DATASET_ANNOTATION])
            writer.attribute("namespace", namespace, entity.place)
            writer.attribute("qualifiedName", name, entity.place)
        lifecycle = spec.get("lifecycle")
        if lifecycle is not None:
            where = self.where(entity, "spec.lifecycle")
            writer.attribute("stage", self.text(lifecycle, where), where)
            writer.attribute("status", STATUS_OF_LIFECYCLE.get(str(lifecycle).lower()), where)
        read = ["lifecycle", "type", *SPEC_REFERENCES[kind]]
        if kind in ("group", "user"):
            self.profile(entity)
            read.append("profile")
        self.spec_type(entity)
        for key in SPEC_REFERENCES[kind]:
            self.relation(entity, key)
        for key, value in spec.items():
            if key in read:
                continue
            if key == "definition" and kind == "api":
                writer.warn("spec.definition (not kept)")
                continue
            writer.annotation(f"spec.{key}", value, warning="spec field")
        for key, value in entity.extra.items():
            if key in ("relations", "status"):
                writer.warn("catalog relations and status (not read)")
            else:
                writer.annotation(key, value, warning="top-level field")

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str):
            raise InputError(f"expected text, got {_type(value)}", where=where)
        return value

    def metadata(self, entity: Entity) -> None:
        writer, metadata = self.writer, entity.metadata
        for key in ("title", "description"):
            if metadata.get(key) is not None:
                self.text(metadata[key], self.where(entity, f"metadata.{key}"))
        if entity.ref.kind not in ("group", "user"):  # agents take their display name first
            writer.attribute("name", metadata.get("title") or metadata["name"], entity.place)
        writer.attribute(
            "description", metadata.get("description"), self.where(entity, "metadata.description")
        )
        tags = metadata.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
            raise InputError(
                "metadata.tags must be a list of text", where=self.where(entity, "metadata.tags")
            )
        writer.attribute("tag", tags, self.where(entity, "metadata.tags"))
        links = metadata.get("links") or []
        if not isinstance(links, list):
            raise InputError(
                f"must be a list, not {_type(links)}", where=self.where(entity, "metadata.links")
            )
        for index, link in enumerate(links):
            if not isinstance(link, dict) or not isinstance(link.get("url"), str):
                raise InputError(
                    "a link is a mapping with a 'url'", where=self.where(entity, f"metadata.links[{index}]")
                )
            writer.annotation("link", link, warning="metadata.links")
        annotations = entity.annotations
        source = annotations.get("backstage.io/source-location", "").removeprefix("url:")
        if not source.startswith(("https://", "http://")):
            source = annotations.get("backstage.io/view-url", "")
        if source.startswith(("https://", "http://")):
            writer.attribute("sourceUrl", source, self.where(entity, "metadata.annotations"))
        used = {MODEL_VERSION_ANNOTATION} if entity.deploys else set()
        if entity.ref.kind == "resource":
            used.add(DATASET_ANNOTATION)
        for key, value in annotations.items():
            if key not in used:
                writer.annotation(key, value, warning="metadata.annotations")
        for key, value in entity.labels.items():
            writer.annotation(f"label:{key}", value, warning="metadata.labels")
        for key, value in metadata.items():
            if key in ("uid", "etag", "generation"):
                writer.warn("catalog uid, etag, generation (not kept)")
            elif key not in METADATA_READ:
                writer.annotation(f"metadata.{key}", value, warning="metadata field")

    def profile(self, entity: Entity) -> None:
        """A group's or user's display name and email."""
        profile = entity.spec.get("profile") or {}
        where = self.where(entity, "spec.profile")
        if not isinstance(profile, dict):
            raise InputError(f"must be a mapping, not {_type(profile)}", where=where)
        for key in ("displayName", "email"):
            if profile.get(key) is not None:
                self.text(profile[key], f"{where}.{key}")
        name = profile.get("displayName") or entity.metadata.get("title") or entity.metadata["name"]
        self.writer.attribute("name", name, where)
        self.writer.attribute("email", profile.get("email"), f"{where}.email")
        for key, value in profile.items():
            if key not in ("displayName", "email"):
                self.writer.annotation(f"spec.profile.{key}", value, warning="spec field")

    def spec_type(self, entity: Entity) -> None:
        kind_of = entity.spec.get("type")
        if kind_of is None:
            return
        kind_of = self.text(kind_of, self.where(entity, "spec.type"))
        self.writer.annotation("spec.type", kind_of, warning="spec.type")
        if entity.ref.kind == "api" and kind_of.lower() in MODEL_API_TYPES and not entity.deploys:
            self.writer.warn(f"model-serving API without {MODEL_VERSION_ANNOTATION} (kept as a service)")
        if entity.ref.kind == "resource" and kind_of.lower() not in DATA_RESOURCE_TYPES:
            self.writer.warn("resource that is not data (kept as a dataset)")

    def relation(self, entity: Entity, key: str) -> None:
        context, writer = FIELDS[key], self.writer
        for ref in self.resolve(entity, key):
            if context.edge is None:  # children: the child team states its parent itself
                writer.annotation("child", str(ref), warning="team children")
            elif not context.inverse:
                writer.edge(context.edge, self.target(ref))
            elif key == "members" and ref not in self.entities:
                # Naming a person here would give them a second name beside their own file's.
                writer.annotation("member", str(ref), warning="group member described elsewhere")
            else:
                self.inverse.append((ref, context.edge, entity.iri, self.where(entity, f"spec.{key}")))

    def state_inverse(self, subject: Ref, edge: str, target: NamedNode, where: str) -> None:
        """An edge this file states on another entity; one described elsewhere gets its name too.

        Every described node needs a name, so an API known here only through
        ``providesApis`` is named by its reference (its own file may add a title).
        """
        iri, kind = self.node_of(subject)
        self.writer.node(iri, kind)
        if subject not in self.entities:
            self.writer.attribute("name", subject.written, where)
            self.writer.attribute("sourceRegistry", FORMAT, where)
            self.writer.attribute("sourceId", str(subject), where)
        self.writer.edge(edge, target)


_API_VERSION = re.compile(rb"^apiVersion:[ \t]*['\"]?backstage\.io/", re.MULTILINE)
_KIND = re.compile(rb"^kind:[ \t]*['\"]?[A-Za-z]", re.MULTILINE)
_MANIFEST = re.compile(rb"^mlg-manifest[ \t]*:", re.MULTILINE)


def _sniff(path: Path, head: bytes) -> bool:
    """A .yaml/.yml file whose first documents are Backstage entities, and not an mlg manifest."""
    if path.suffix.lower() not in (".yaml", ".yml"):
        return False
    head = head.removeprefix(b"\xef\xbb\xbf")
    return bool(_API_VERSION.search(head) and _KIND.search(head) and not _MANIFEST.search(head))


def _load(request: Request) -> Submission:
    documents = parse_yaml(request.location, request.data, all_documents=True)
    catalog = Catalog(request.location, request.minter)
    catalog.read(documents)
    if not catalog.entities and not catalog.writer.warnings:
        raise InputError("no Backstage entity in this file", where=request.location)
    catalog.write()
    return submission(request, FORMAT, catalog.writer)


FORMATS = [
    Format(
        FORMAT,
        (".yaml", ".yml"),
        "Backstage catalog descriptor files (catalog-info.yaml): components, APIs, resources, "
        "systems, domains, groups and users",
        _sniff,
        _load,
    )
]
