"""Stable IRIs minted from source identifiers, so one real asset is one node.

Re-loading an input gives the same IRIs, and two registries that name the same
asset meet by construction: a dataset is named the way OpenLineage names it
(namespace + name), whoever reports it. Every IRI lives under a configurable base.

>>> minter = Minter("https://mlg.example.org/")
>>> minter.dataset_from_uri("s3://Fraud-Bucket/raw/transactions/").value
'https://mlg.example.org/dataset/s3%3A%2F%2Ffraud-bucket/raw/transactions'
>>> minter.asset("model", "fraud detector").value
'https://mlg.example.org/model/fraud%20detector'
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from pyoxigraph import NamedNode

from mlg.errors import InputError
from mlg.vocab import KINDS

VERSION_PARENTS = {"dataset-version": "dataset", "model-version": "model"}

# OpenLineage naming: object stores put the bucket in the namespace and the key in the name.
_BUCKET_SCHEMES = {"s3", "s3a", "s3n", "gs", "gcs", "abfs", "abfss", "wasb", "wasbs", "hdfs"}


def split_dataset_uri(uri: str) -> tuple[str, str]:
    """OpenLineage (namespace, name) of a dataset location.

    ``s3://bucket/key`` → (``s3://bucket``, ``key``); ``postgres://host:5432/db.schema.table``
    → (``postgres://host:5432``, ``db.schema.table``); ``file:///data/x.csv`` → (``file``,
    ``/data/x.csv``); ``bigquery:project.dataset.table`` → (``bigquery``, ``project.dataset.table``).
    """
    uri = uri.strip()
    try:
        parts = urlsplit(uri)
    except ValueError as error:
        raise InputError(f"dataset location {uri!r} is not a URI: {error}") from None
    scheme = parts.scheme.lower()
    if not scheme:
        raise InputError(f"dataset location {uri!r} has no scheme (expected scheme://...)")
    if scheme == "file":
        return "file", parts.path or "/"
    if not parts.netloc:
        # scheme:name, such as bigquery:project.dataset.table
        return scheme, uri[len(scheme) + 1 :].lstrip("/")
    authority = parts.netloc.lower()
    name = parts.path.lstrip("/").rstrip("/")
    if parts.query:
        name += "?" + parts.query
    return f"{scheme}://{authority}", name


def looks_like_uri(text: str) -> bool:
    return "://" in text or text.startswith(("file:", "bigquery:"))


class Minter:
    """Makes the IRIs of assets, versions, metrics and submission graphs under one base."""

    def __init__(self, base: str) -> None:
        if not base.endswith(("/", "#")):
            base += "/"
        self.base = base

    def _iri(self, path: str) -> NamedNode:
        return NamedNode(self.base + path)

    def asset(self, kind: str, identifier: str) -> NamedNode:
        """The IRI of an asset of a kind (``model``, ``team``...) known by an identifier."""
        if kind == "dataset" and looks_like_uri(identifier):
            return self.dataset_from_uri(identifier)
        return self._iri(f"{kind}/{quote(identifier, safe='')}")

    def qualified(self, kind: str, namespace: str, name: str) -> NamedNode:
        """The IRI of a dataset or job OpenLineage calls (namespace, name)."""
        return self._iri(f"{kind}/{quote(namespace, safe='')}/{quote(name, safe='/')}")

    def dataset(self, namespace: str, name: str) -> NamedNode:
        return self.qualified("dataset", namespace, name)

    def dataset_from_uri(self, uri: str) -> NamedNode:
        return self.dataset(*split_dataset_uri(uri))

    def reference(self, ref: str) -> NamedNode | None:
        """The IRI a ``kind:id`` reference names, or None if it is not one.

        ``dataset:s3://bucket/key`` names a dataset by location; for versions,
        ``model-version:churn@3`` names version 3 of the model ``churn`` (the last ``@``
        splits, so ``dataset-version:s3://bucket/key@2026-01-01`` works too).
        """
        kind, sep, identifier = ref.partition(":")
        if not sep or kind not in KINDS or not identifier:
            return None
        parent_kind = VERSION_PARENTS.get(kind)
        if parent_kind and "@" in identifier:
            parent, _, version = identifier.rpartition("@")
            return self.version(self.asset(parent_kind, parent), version)
        return self.asset(kind, identifier)

    @staticmethod
    def version(parent: NamedNode, version: str) -> NamedNode:
        """A version is named under its dataset or model, so every registry mints the same."""
        return NamedNode(f"{parent.value}/versions/{quote(version, safe='')}")

    @staticmethod
    def field(dataset: NamedNode, path: str) -> NamedNode:
        """A column of a dataset, by its path in the schema (``address.city`` for nested fields)."""
        return NamedNode(f"{dataset.value}/fields/{quote(path, safe='')}")

    @staticmethod
    def parameter(owner: NamedNode, name: str) -> NamedNode:
        """A parameter setting of a run, job or model version."""
        return NamedNode(f"{owner.value}/parameters/{quote(name, safe='')}")

    @staticmethod
    def metric(owner: NamedNode, name: str) -> NamedNode:
        return NamedNode(f"{owner.value}/metrics/{quote(name, safe='')}")

    def graph(self, source: str) -> NamedNode:
        """The named graph of the submission read from ``source``."""
        return self._iri(f"graph/{quote(source, safe='')}")

    def skolem(self, scope: str, label: str) -> NamedNode:
        """A stable IRI for a blank node (RDF 1.1 skolemisation), so graphs can be diffed."""
        return self._iri(f".well-known/genid/{quote(scope, safe='')}/{quote(label, safe='')}")
