"""The manifest: assets and edges a team declares by hand, in YAML or JSON.

For what lives in no registry (a hand-built feature table, a service's dependency on
a model). The format is documented in the README ("Manifest format"); in short::

    mlg-manifest: 1
    source: fraud-team/catalog        # optional stable identity of this file
    defaults: {owner: fraud-ml}
    teams:  [{id: fraud-ml, name: Fraud ML, email: fraud-ml@example.com}]
    people: [{id: alice, name: Alice, memberOf: fraud-ml}]
    assets:
      - {kind: dataset, id: transactions, uri: s3://payments/raw/transactions}
      - {kind: model, id: fraud-detector}
      - {kind: model-version, id: fraud-detector@3, versionOf: fraud-detector,
         version: "3", trainedOn: [transactions]}

A reference is the ``id`` of an entry of the same file, or ``kind:id`` for an asset
declared anywhere (``dataset:s3://bucket/path`` names a dataset by its location,
``model-version:fraud-detector@3`` a version of a model).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from pyoxigraph import NamedNode

from mlg.errors import InputError
from mlg.identity import VERSION_PARENTS, Minter, split_dataset_uri
from mlg.loaders import MANIFEST_SUFFIXES, Format, Request
from mlg.loaders.documents import parse_json, parse_yaml
from mlg.loaders.mapping import EDGES, TEXT_ATTRIBUTES, TIME_ATTRIBUTES, RecordWriter
from mlg.submission import Submission, sha256_digest
from mlg.vocab import KINDS

MARKER = "mlg-manifest"
TOP_LEVEL = {MARKER, "source", "description", "defaults", "teams", "people", "assets"}
ASSET_KINDS = [kind for kind in KINDS if kind not in ("team", "person")]
_SPECIAL = {"id", "kind", "owner", "tags", "metrics", "sameAs", "uri", "memberOf"}
_ATTRIBUTES = {*TEXT_ATTRIBUTES, *TIME_ATTRIBUTES, "sourceUrl"} - {"sourceRegistry", "sourceId"}
ASSET_FIELDS = _SPECIAL - {"memberOf"} | _ATTRIBUTES | (set(EDGES) - {"ownedBy", "memberOf"})
AGENT_FIELDS = {"id", "name", "email", "description", "sameAs", "memberOf", "sourceUrl"}


def parse_document(path: Path, data: bytes) -> Any:
    """The manifest's data, or one error with the line where it went wrong."""
    if path.suffix.lower() == ".json":
        return parse_json(str(path), data)
    return parse_yaml(str(path), data)


class _Manifest:
    """One manifest being turned into records; ``where`` strings name the failing place."""

    def __init__(self, document: dict[str, Any], path: Path, minter: Minter) -> None:
        self.document = document
        self.path = path
        self.minter = minter
        self.writer = RecordWriter(minter)
        self.local: dict[str, tuple[NamedNode, str]] = {}

    def where(self, place: str) -> str:
        return f"{self.path}: {place}"

    def fail(self, message: str, place: str) -> InputError:
        return InputError(message, where=self.where(place))

    def entries(self, key: str) -> list[dict[str, Any]]:
        value = self.document.get(key) or []
        if not isinstance(value, list):
            raise self.fail(f"'{key}' must be a list", key)
        for index, entry in enumerate(value):
            if not isinstance(entry, dict):
                raise self.fail("each entry must be a mapping", f"{key}[{index}]")
        return value

    def check_fields(self, entry: dict[str, Any], allowed: set[str], place: str) -> None:
        for name in entry:
            if name not in allowed:
                close = difflib.get_close_matches(str(name), sorted(allowed), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise self.fail(f"unknown field '{name}'{hint}", place)

    def identifier(self, entry: dict[str, Any], place: str) -> str:
        value = entry.get("id")
        if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
            raise self.fail("every entry needs an 'id' (text)", place)
        return str(value)

    # -- naming -----------------------------------------------------------------

    def name_entries(self) -> None:
        """Give every entry its IRI first, so references can point forwards."""
        for key, kind in (("teams", "team"), ("people", "person")):
            for index, entry in enumerate(self.entries(key)):
                place = f"{key}[{index}]"
                identifier = self.identifier(entry, place)
                self.declare(identifier, self.minter.asset(kind, identifier), kind, place)
        assets = self.entries("assets")
        kinds = []
        for index, entry in enumerate(assets):
            kind = entry.get("kind")
            if kind not in ASSET_KINDS:
                raise self.fail(
                    f"unknown kind {kind!r}; one of: {', '.join(ASSET_KINDS)}", f"assets[{index}].kind"
                )
            kinds.append(kind)
        # Versions are named under their dataset or model, so those are named first.
        for versions in (False, True):
            for index, (entry, kind) in enumerate(zip(assets, kinds, strict=True)):
                if (kind in VERSION_PARENTS) == versions:
                    place = f"assets[{index}]"
                    self.declare(
                        self.identifier(entry, place), self.asset_iri(entry, kind, place), kind, place
                    )

    def declare(self, identifier: str, iri: NamedNode, kind: str, place: str) -> None:
        if identifier in self.local:
            raise self.fail(f"id '{identifier}' is used twice in this file", f"{place}.id")
        self.local[identifier] = (iri, kind)

    def asset_iri(self, entry: dict[str, Any], kind: str, place: str) -> NamedNode:
        if kind == "dataset" and entry.get("uri"):
            try:
                return self.minter.dataset_from_uri(str(entry["uri"]))
            except InputError as error:
                raise self.fail(error.message, f"{place}.uri") from None
        if kind in ("dataset", "job") and entry.get("namespace") and entry.get("qualifiedName"):
            return self.minter.qualified(kind, str(entry["namespace"]), str(entry["qualifiedName"]))
        if kind in VERSION_PARENTS and entry.get("versionOf") and entry.get("version") is not None:
            parent, _ = self.resolve(entry["versionOf"], f"{place}.versionOf", VERSION_PARENTS[kind])
            return self.minter.version(parent, str(entry["version"]))
        return self.minter.asset(kind, self.identifier(entry, place))

    def resolve(self, ref: Any, place: str, default_kind: str | None = None) -> tuple[NamedNode, str]:
        """A reference: a local id, or kind:id for an asset declared elsewhere."""
        if not isinstance(ref, str) or not ref.strip():
            raise self.fail("a reference must be text: an id of this file or kind:id", place)
        if ref in self.local:
            return self.local[ref]
        try:
            iri = self.minter.reference(ref)
        except InputError as error:
            raise self.fail(error.message, place) from None
        if iri is not None:
            return iri, ref.partition(":")[0]
        hint = (
            f"; write {default_kind}:{ref} for one declared elsewhere"
            if default_kind
            else "; write kind:id for an asset declared elsewhere"
        )
        raise self.fail(f"'{ref}' is not an id in this file{hint}", place)

    def references(self, value: Any, place: str) -> list[tuple[NamedNode, str]]:
        values = value if isinstance(value, list) else [value]
        return [
            self.resolve(item, f"{place}[{i}]" if isinstance(value, list) else place)
            for i, item in enumerate(values)
        ]

    # -- describing -------------------------------------------------------------

    def write(self) -> None:
        self.name_entries()
        defaults = self.document.get("defaults") or {}
        if not isinstance(defaults, dict):
            raise self.fail("'defaults' must be a mapping", "defaults")
        self.check_fields(defaults, {"owner"}, "defaults")
        for key, kind in (("teams", "team"), ("people", "person")):
            for index, entry in enumerate(self.entries(key)):
                place = f"{key}[{index}]"
                self.check_fields(entry, AGENT_FIELDS, place)
                iri, _ = self.local[self.identifier(entry, place)]
                self.writer.node(iri, kind)
                self.common(entry, place)
                for target, target_kind in self.references(entry.get("memberOf") or [], f"{place}.memberOf"):
                    self.writer.edge("memberOf", self.writer.reference(target, target_kind))
        for index, entry in enumerate(self.entries("assets")):
            place = f"assets[{index}]"
            self.check_fields(entry, ASSET_FIELDS, place)
            iri, kind = self.local[self.identifier(entry, place)]
            self.writer.node(iri, kind)
            self.common(entry, place)
            self.writer.attribute("sourceRegistry", "manifest", self.where(place))
            self.writer.attribute("sourceId", self.identifier(entry, place), self.where(place))
            if kind == "dataset" and entry.get("uri"):
                namespace, name = split_dataset_uri(str(entry["uri"]))
                entry = {"namespace": namespace, "qualifiedName": name, **entry}
            for attribute in _ATTRIBUTES - {"name", "description", "email", "sourceUrl"}:
                self.writer.attribute(attribute, entry.get(attribute), self.where(f"{place}.{attribute}"))
            self.writer.attribute("tag", entry.get("tags"), self.where(f"{place}.tags"))
            owners = entry.get("owner", defaults.get("owner"))
            for target, target_kind in self.references(owners or [], f"{place}.owner"):
                self.writer.edge("ownedBy", self.writer.reference(target, target_kind))
            for edge in EDGES:
                if edge in entry and edge not in ("ownedBy", "memberOf"):
                    for target, target_kind in self.references(entry[edge], f"{place}.{edge}"):
                        self.writer.edge(edge, self.writer.reference(target, target_kind))
            metrics = entry.get("metrics") or {}
            if not isinstance(metrics, dict):
                raise self.fail("'metrics' must map metric names to numbers", f"{place}.metrics")
            for metric, value in metrics.items():
                self.writer.metric(str(metric), value, self.where(f"{place}.metrics.{metric}"))

    def common(self, entry: dict[str, Any], place: str) -> None:
        identifier = self.identifier(entry, place)
        self.writer.attribute("name", entry.get("name", identifier), self.where(f"{place}.name"))
        for attribute in ("description", "email", "sourceUrl"):
            self.writer.attribute(attribute, entry.get(attribute), self.where(f"{place}.{attribute}"))
        others = entry.get("sameAs") or []
        for index, other in enumerate(others if isinstance(others, list) else [others]):
            where = f"{place}.sameAs[{index}]" if isinstance(others, list) else f"{place}.sameAs"
            if not isinstance(other, str):
                raise self.fail("sameAs takes kind:id references or IRIs (text)", where)
            try:
                self.writer.same_as(self.minter.reference(other) or NamedNode(other))
            except ValueError:
                raise self.fail(f"{other!r} is neither kind:id nor an IRI", where) from None
            except InputError as error:
                raise self.fail(error.message, where) from None


def _sniff(path: Path, head: bytes) -> bool:
    return MARKER.encode() in head and path.suffix.lower() in MANIFEST_SUFFIXES


def _load(request: Request) -> Submission:
    document = parse_document(request.path, request.data)
    if not isinstance(document, dict) or MARKER not in document:
        raise InputError(f"not a manifest: the top level needs '{MARKER}: 1'", where=str(request.path))
    if type(document[MARKER]) is not int or document[MARKER] != 1:
        raise InputError(
            f"unsupported manifest version {document[MARKER]!r} (this mlg reads 1)", where=str(request.path)
        )
    manifest = _Manifest(document, request.path, request.minter)
    manifest.check_fields(document, TOP_LEVEL, "top level")
    manifest.write()
    records = manifest.writer.records()
    declared = document.get("source")
    source = request.default_source(str(declared) if declared else None)
    return Submission(
        source, "manifest", sha256_digest(request.data), lambda: iter(records), str(request.path)
    )


FORMATS = [
    Format(
        "manifest",
        (".yaml", ".yml", ".json"),
        "mlg manifest: assets and edges declared by hand (YAML or JSON)",
        _sniff,
        _load,
    )
]
