"""DataHub's URNs, and the IRIs they become: the identity rules of the DataHub loader.

Why a module of its own: identity is what makes DataHub's description of a table and
OpenLineage's, MLflow's or Feast's one node, so the rules are kept in one place,
apart from reading files (:mod:`mlg.loaders.datahub`).

A URN is ``urn:li:TYPE:ID`` or ``urn:li:TYPE:(PART,PART,...)``; parts may be URNs
themselves, and DataHub percent-encodes ``,`` ``(`` ``)`` inside names. Each type
mapped becomes the IRI the other loaders mint for the same asset:

- ``dataset:(PLATFORM,NAME,ENV)``: the dataset OpenLineage calls (namespace, name):
  an object store puts its bucket in the namespace (``s3://bucket``) and the key in the
  name; ``file`` and ``local`` are namespace ``file``; on platforms whose table names
  have a fixed depth (``db.schema.table`` on Postgres), leading extra parts are a
  platform instance, so ``postgres,host:5432.db.schema.table`` is namespace
  ``postgres://host:5432``; otherwise the namespace is the platform. The environment
  is no part of the identity (kept as a note unless ``PROD``).
- ``schemaField:(DATASET,PATH)``: a field of that dataset, by its plain dotted path
  (a v2 path ``[version=2.0].[type=int].id`` is ``id``), minted by :meth:`Minter.field`.
- ``mlModelGroup:(PLATFORM,NAME,ENV)``: the model NAME. ``mlModel:(PLATFORM,NAME,ENV)``:
  a version of its group when its properties name one (version: its ``versionTag``,
  else NAME without the ``GROUP_`` prefix DataHub's MLflow source gives it); without
  a group, a model of its own.
- ``mlModelDeployment:(PLATFORM,NAME,ENV)``: the deployment NAME, its stage from ENV.
- ``mlFeatureTable:(PLATFORM,PROJECT.VIEW)``, ``mlFeature:(PROJECT.VIEW,NAME)``,
  ``mlPrimaryKey:(PROJECT.VIEW,NAME)``: the feature view ``PROJECT/VIEW`` as the Feast
  loader names it, a feature of it, and a field (a join key) of it.
- ``dataFlow:(ORCHESTRATOR,FLOW,CLUSTER)``: the pipeline (CLUSTER, FLOW), or
  (ORCHESTRATOR, FLOW) when the cluster is an environment (``prod``).
  ``dataJob:(FLOW_URN,JOB)``: the job (its flow's namespace, ``FLOW.JOB``), as
  OpenLineage's Airflow integration names a task ``dag_id.task_id``.
- ``dataProcessInstance:ID``: a run, a training run when a model or its own aspects
  say so. ``corpuser:ID``, ``corpGroup:ID``: a person, a team.

Other types (tags, charts, dashboards...) name nothing in the graph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pyoxigraph import NamedNode

from mlg.identity import Minter

PLATFORM = "urn:li:dataPlatform:"
# The entity types mapped, and how many parts their URNs have.
URN_PARTS = {
    "dataset": 3,
    "schemaField": 2,
    "mlModel": 3,
    "mlModelGroup": 3,
    "mlModelDeployment": 3,
    "mlFeature": 2,
    "mlFeatureTable": 2,
    "mlPrimaryKey": 2,
    "dataFlow": 3,
    "dataJob": 2,
    "dataProcessInstance": 1,
    "corpuser": 1,
    "corpGroup": 1,
}
# DataHub environments (FabricType): a flow "cluster" that is one of them names no namespace.
ENVS = {
    *("PROD", "PRD", "DEV", "TEST", "TST", "QA", "UAT", "EI", "PRE", "STG", "NON_PROD"),
    *("CORP", "RVW", "SIT", "SBX", "SANDBOX", "CERT"),
}
# The stage of a deployment, from the environment in its URN.
STAGES = {
    "PROD": "production",
    "PRD": "production",
    "DEV": "development",
    "STG": "staging",
    "PRE": "staging",
    "UAT": "staging",
    "TEST": "test",
    "TST": "test",
    "QA": "test",
    "SBX": "sandbox",
}
# Object stores: OpenLineage puts the bucket in the namespace (s3://bucket) and the key in the name.
BUCKET_SCHEMES = {"s3": "s3", "gcs": "gs", "abs": "abfss"}
# Platforms whose table names have a fixed depth: leading extra parts are a platform instance.
TABLE_DEPTH = {
    **{"postgres": 3, "redshift": 3, "snowflake": 3, "mssql": 3, "trino": 3},
    **{"mysql": 2, "mariadb": 2, "hive": 2},
}

_URN_PUNCTUATION = re.compile(r"[(),]")


@dataclass(frozen=True, slots=True)
class Urn:
    """``urn:li:TYPE:ID`` or ``urn:li:TYPE:(PART,PART,...)``, parts possibly URNs themselves."""

    type: str
    parts: tuple[str, ...]
    text: str


def parse_urn(text: Any) -> Urn:
    """A URN split as DataHub splits it (commas at the first level of parentheses), or ValueError."""
    if not isinstance(text, str):
        raise ValueError(f"expected a URN (text), got {type(text).__name__}")
    prefix, _, rest = text.partition(":")
    domain, _, rest = rest.partition(":")
    entity, _, key = rest.partition(":")
    if prefix != "urn" or domain != "li" or not entity or not key:
        raise ValueError(f"{text!r} is not a DataHub URN (urn:li:<type>:<id>)")
    if not (key.startswith("(") and key.endswith(")")):
        return Urn(entity, (key,), text)
    if key.count("(") == 1 and key.count(")") == 1:
        parts = key[1:-1].split(",")
    else:
        parts, depth, start = [], 0, 1
        for match in _URN_PUNCTUATION.finditer(key):
            char, index = match.group(), match.start()
            if char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
                if depth < 0 or (depth == 0 and index != len(key) - 1):
                    raise ValueError(f"{text!r} is not a DataHub URN: unbalanced parentheses")
            elif depth == 1:
                parts.append(key[start:index])
                start = index + 1
        if depth != 0:
            raise ValueError(f"{text!r} is not a DataHub URN: unbalanced parentheses")
        parts.append(key[start:-1])
    if not all(parts):
        raise ValueError(f"{text!r} is not a DataHub URN: it has an empty part")
    return Urn(entity, tuple(parts), text)


def _decoded(part: str) -> str:
    """DataHub percent-encodes the characters URNs reserve (``,`` ``(`` ``)``) inside names."""
    if "%" not in part:
        return part
    return part.replace("%2C", ",").replace("%28", "(").replace("%29", ")").replace("%E2%90%9F", "\u241f")


def dataset_name(platform: str, name: str) -> tuple[str, str]:
    """The OpenLineage (namespace, name) of the dataset DataHub calls (platform, name).

    >>> dataset_name("s3", "Payments-Raw/transactions/2026")
    ('s3://payments-raw', 'transactions/2026')
    >>> dataset_name("bigquery", "proj.fraud.labels")
    ('bigquery', 'proj.fraud.labels')
    >>> dataset_name("postgres", "ledger.public.chargebacks")
    ('postgres', 'ledger.public.chargebacks')
    >>> dataset_name("postgres", "db.internal:5432.ledger.public.chargebacks")
    ('postgres://db.internal:5432', 'ledger.public.chargebacks')
    """
    platform = platform.lower()
    if platform in BUCKET_SCHEMES:
        bucket, _, key = name.lstrip("/").partition("/")
        return f"{BUCKET_SCHEMES[platform]}://{bucket.lower()}", key.strip("/")
    if platform in ("file", "local"):
        return "file", name
    depth = TABLE_DEPTH.get(platform)
    if depth:
        parts = name.split(".")
        if len(parts) > depth:
            instance = ".".join(parts[:-depth]).lower()
            return f"{platform}://{instance}", ".".join(parts[-depth:])
    return platform, name


def field_path(path: str) -> str:
    """The plain dotted path of a field: a v2 path ``[version=2.0].[type=int].id`` → ``id``."""
    if not path.startswith("[version=2.0]"):
        return path
    return ".".join(t for t in path.split(".") if not (t.startswith("[") or t.endswith("]")))


@dataclass(slots=True)
class Entity:
    """What a URN becomes: its node, and what any description of that node must say."""

    iri: NamedNode
    kind: str
    name: str
    urn: str
    parent: Entity | None = None
    """The dataset of a field, the model of a version, the pipeline of a job."""
    version: str | None = None
    namespace: str | None = None
    qualified: str | None = None
    stage: str | None = None
    env: str | None = None


class Identity:
    """URN → :class:`Entity`, cached: the rules of this module's docstring.

    What identity needs from other aspects (a model's group and version, which runs are
    training runs) is filled in before any URN is resolved (the loader's ``_Mapper.prepare``).
    """

    def __init__(self, minter: Minter) -> None:
        self.minter = minter
        self.cache: dict[str, Entity | None] = {}
        self.model_groups: dict[str, str] = {}
        self.model_versions: dict[str, str] = {}
        self.training_runs: set[str] = set()

    def of(self, text: Urn | Any) -> Entity | None:
        """The entity a URN names; None for entity types the graph has no class for (tags, charts)."""
        key = text.text if isinstance(text, Urn) else text
        if isinstance(key, str) and key in self.cache:
            return self.cache[key]
        urn = text if isinstance(text, Urn) else parse_urn(text)
        expected = URN_PARTS.get(urn.type)
        if expected is None:
            found = None
        elif len(urn.parts) != expected:
            raise ValueError(f"{urn.text!r}: a {urn.type} URN has {expected} part(s), not {len(urn.parts)}")
        else:
            found = getattr(self, "_" + urn.type)(urn)
        self.cache[urn.text] = found
        return found

    def _platform(self, urn: Urn) -> str:
        platform = urn.parts[0]
        if not platform.startswith(PLATFORM) or len(platform) == len(PLATFORM):
            raise ValueError(f"{urn.text!r}: {platform!r} is not a data platform URN ({PLATFORM}<name>)")
        return platform[len(PLATFORM) :]

    def _dataset(self, urn: Urn) -> Entity:
        name = _decoded(urn.parts[1])
        namespace, qualified = dataset_name(self._platform(urn), name)
        iri = self.minter.dataset(namespace, qualified)
        env = urn.parts[2].upper()
        return Entity(iri, "dataset", name, urn.text, namespace=namespace, qualified=qualified, env=env)

    def _schemaField(self, urn: Urn) -> Entity:
        dataset = self.of(urn.parts[0])
        if dataset is None or dataset.kind != "dataset":
            raise ValueError(f"{urn.text!r}: a schema field belongs to a dataset URN")
        return self.field(dataset, _decoded(urn.parts[1]), urn.text)

    @staticmethod
    def field(dataset: Entity, raw_path: str, urn: str) -> Entity:
        """A field of a dataset, named by its plain path as every loader names a column."""
        path = field_path(raw_path)
        return Entity(Minter.field(dataset.iri, path), "field", path, urn, parent=dataset)

    def _mlModelGroup(self, urn: Urn) -> Entity:
        self._platform(urn)
        name = _decoded(urn.parts[1])
        return Entity(self.minter.asset("model", name), "model", name, urn.text)

    def _mlModel(self, urn: Urn) -> Entity:
        """A version of its group when DataHub says which (the MLflow source names it GROUP_VERSION)."""
        self._platform(urn)
        name = _decoded(urn.parts[1])
        group_urn = self.model_groups.get(urn.text)
        if group_urn is None:
            return Entity(self.minter.asset("model", name), "model", name, urn.text)
        group = self.of(group_urn)
        assert group is not None  # checked by _Mapper.prepare
        version = self.model_versions.get(urn.text)
        if version is None:
            separator = group.name + "_"
            version = name[len(separator) :] if name.startswith(separator) and name != separator else name
        iri = self.minter.version(group.iri, version)
        return Entity(iri, "model-version", name, urn.text, parent=group, version=version)

    def _mlModelDeployment(self, urn: Urn) -> Entity:
        self._platform(urn)
        name = _decoded(urn.parts[1])
        env = urn.parts[2].upper()
        stage = STAGES.get(env, env.lower())
        return Entity(self.minter.asset("deployment", name), "deployment", name, urn.text, stage=stage)

    @staticmethod
    def view(table: str) -> str:
        """DataHub's Feast source names a feature view ``project.view``; Feast itself, ``project/view``."""
        return table.replace(".", "/", 1)

    def _mlFeature(self, urn: Urn) -> Entity:
        table, name = _decoded(urn.parts[0]), _decoded(urn.parts[1])
        return Entity(self.minter.asset("feature", f"{self.view(table)}/{name}"), "feature", name, urn.text)

    def _mlPrimaryKey(self, urn: Urn) -> Entity:
        """A primary key (a Feast entity's join key) is a field of its feature view."""
        table, name = _decoded(urn.parts[0]), _decoded(urn.parts[1])
        view = Entity(self.minter.asset("feature-view", self.view(table)), "feature-view", table, "")
        iri = self.minter.asset("field", f"{self.view(table)}/{name}")
        return Entity(iri, "field", name, urn.text, parent=view)

    def _mlFeatureTable(self, urn: Urn) -> Entity:
        self._platform(urn)
        name = _decoded(urn.parts[1])
        return Entity(self.minter.asset("feature-view", self.view(name)), "feature-view", name, urn.text)

    @staticmethod
    def namespace(orchestrator: str, cluster: str) -> str:
        """A flow's cluster, unless it is an environment (``PROD``): then its orchestrator."""
        return orchestrator if cluster.upper() in ENVS else cluster

    def _dataFlow(self, urn: Urn) -> Entity:
        orchestrator, flow, cluster = (_decoded(p) for p in urn.parts)
        namespace = self.namespace(orchestrator, cluster)
        iri = self.minter.qualified("pipeline", namespace, flow)
        return Entity(iri, "pipeline", flow, urn.text, namespace=namespace, qualified=flow)

    def _dataJob(self, urn: Urn) -> Entity:
        flow = self.of(urn.parts[0])
        if flow is None or flow.kind != "pipeline":
            raise ValueError(f"{urn.text!r}: a data job belongs to a dataFlow URN")
        job = _decoded(urn.parts[1])
        name = f"{flow.qualified}.{job}"  # as OpenLineage's Airflow integration names a task: dag_id.task_id
        iri = self.minter.qualified("job", flow.namespace or "", name)
        return Entity(iri, "job", job, urn.text, parent=flow, namespace=flow.namespace, qualified=name)

    def _dataProcessInstance(self, urn: Urn) -> Entity:
        kind = "training-run" if urn.text in self.training_runs else "run"
        return Entity(self.minter.asset("run", urn.parts[0]), kind, urn.parts[0], urn.text)

    def _corpuser(self, urn: Urn) -> Entity:
        return Entity(self.minter.asset("person", urn.parts[0]), "person", urn.parts[0], urn.text)

    def _corpGroup(self, urn: Urn) -> Entity:
        return Entity(self.minter.asset("team", urn.parts[0]), "team", urn.parts[0], urn.text)
