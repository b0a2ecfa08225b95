"""A deterministic, enterprise-shaped synthetic ML graph, for benchmarks.

The graph is built only through :class:`mlg.loaders.mapping.RecordWriter` and
:class:`mlg.identity.Minter`, so it exercises the very mapping real loaders use.

Shape: the organisation is a row of teams of about a thousand assets each. A team has
people, pipelines, raw datasets, three layers of derived datasets (fan-in 1-4, each
produced by a job that used its parents), dataset versions, feature views and
features, experiments, training runs, models with versions (some fine-tuned from
another), evaluations with 2-4 metrics, deployments and services (a service->service
cycle in every team). Every fifth team is a platform team that also owns a derivation
chain of 50-200 datasets, so some nodes have about 1,000 ancestors.

Edges across teams point only at the *curated sources* (first derived layer),
features and deployments of the ``CROSS_TEAM_REACH`` teams before, so closures stay
bounded as the graph grows, as they do in a real organisation (a 1M-asset graph is
not one giant lineage blob).

Everything about team ``t`` comes from an RNG seeded by ``(seed, t)``, and the IRIs
of another team's nodes are computed, not looked up: a team is generated alone, in
any order, which is what lets a submission stream its records (one team in memory
at a time) and :meth:`SyntheticGraph.probes` walk lineage without the whole graph.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
import re
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pyoxigraph import NamedNode

from mlg.identity import Minter, split_dataset_uri
from mlg.loaders.mapping import RecordWriter
from mlg.submission import Record, Submission
from mlg.vocab import MLG, ontology

BASE = "https://mlg.example.org/"
GENERATOR_VERSION = "1"
CROSS_TEAM_REACH = 10
"""A team refers only to nodes of the teams at most this many places before it."""

DOWNSTREAM_WINDOW = 3 * CROSS_TEAM_REACH
"""Downstream of team ``t`` lies within teams ``t .. t + DOWNSTREAM_WINDOW`` (three cross-team hops
at most: a curated source, a feature built on it, a deployment of a model using the feature)."""

DOMAINS = ("payments", "fraud", "risk", "growth", "search", "ads", "logistics", "support", "pricing")

# Per-team counts at scale 1 (a team of ~1,000 assets).
TEMPLATE = {
    "person": 8,
    "pipeline": 10,
    "raw": 100,
    "versioned": 30,  # datasets with two versions each
    "l1": 70,
    "l2": 60,
    "l3": 30,
    "feature-view": 20,
    "features-per-view": 6,
    "experiment": 10,
    "model": 25,
    "versions-per-model": 3,
    "deployment": 25,
    "service": 20,
}
CHAIN_EVERY = 5
"""Every fifth team (0, 5, 10...) owns a long derivation chain."""
CHAIN_LENGTHS = (50, 200)
FAN_IN_WEIGHTS = (0.4, 0.3, 0.2, 0.1)  # 1, 2, 3 or 4 parents
EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
STATUSES = ("active",) * 8 + ("deprecated", "experimental", "retired")
METRICS = ("auc", "precision", "recall", "f1", "accuracy", "log_loss")

_LINEAGE_EDGES = frozenset(term.value.removeprefix(MLG) for term in ontology().lineage_properties)
_TEAM_IN_IRI = re.compile(r"[a-z]+-(\d{5})")

Edge = tuple[str, NamedNode, str]
"""(edge name, target, target kind): what RecordWriter.edge and .reference need."""


@dataclass(frozen=True)
class Node:
    """One node of the synthetic graph, before it is written as a record."""

    iri: NamedNode
    kind: str
    attributes: tuple[tuple[str, Any], ...]
    edges: tuple[Edge, ...] = ()
    metrics: tuple[tuple[str, float], ...] = ()
    same_as: tuple[NamedNode, ...] = ()

    def lineage(self) -> Iterator[NamedNode]:
        """What this node depends on, as mlg.lineage.trace follows it (sameAs included)."""
        for name, target, _ in self.edges:
            if name in _LINEAGE_EDGES:
                yield target
        yield from self.same_as


@dataclass(frozen=True)
class Probe:
    """A node to trace, with the size of its closure in the generated graph."""

    label: str
    iri: NamedNode
    kind: str
    ancestors: int
    descendants: int | None = None


@dataclass
class _Team:
    """The IRIs of one team's nodes, computable for any team without generating it."""

    t: int
    slug: str
    domain: str
    minter: Minter
    counts: dict[str, int]

    def l1(self, i: int) -> NamedNode:
        return self.minter.dataset_from_uri(f"bigquery:{self.slug}.curated.source_{i:03d}")

    def feature(self, view: int, j: int) -> NamedNode:
        return self.minter.asset("feature", f"{self.slug}.view_{view:02d}.f{j}")

    def deployment(self, i: int) -> NamedNode:
        return self.minter.asset("deployment", f"{self.slug}-deploy-{i:02d}")


class SyntheticGraph:
    """About ``assets`` assets in teams of ~1,000, reproducible from ``seed``."""

    def __init__(self, assets: int, seed: int = 42, base: str = BASE, team_size: int = 1000) -> None:
        if assets < 50:
            raise ValueError("ask for at least 50 assets")
        self.requested = assets
        self.seed = seed
        self.minter = Minter(base)
        self.teams = max(1, round(assets / team_size))
        self.scale = 1.0  # the template's own size first, then the scale that meets ``assets``
        self.scale = assets / self.teams / self._mean_team_assets()
        self._team_cache = lru_cache(maxsize=64)(self._generate_team)

    # -- sizes ------------------------------------------------------------------------

    def count(self, key: str) -> int:
        return max(1, round(TEMPLATE[key] * self.scale))

    def chain_length(self, t: int) -> int:
        """0 for most teams; 50-200 (scaled) for platform teams; 200 for team 0 and teams 5, 15, 25...

        The longest chains sit where :meth:`probe_team` looks for a node with ~1,000 ancestors.
        """
        if t % CHAIN_EVERY:
            return 0
        low, high = CHAIN_LENGTHS
        if t and t % (2 * CHAIN_EVERY) != CHAIN_EVERY:
            high = random.Random(f"{self.seed}:{t}:chain").randint(low, high)
        return max(3, round(high * min(1.0, self.scale)))

    def team_assets(self, t: int) -> int:
        """Assets team ``t`` describes (itself and its people included), without generating it."""
        c = self.count
        derived = c("l1") + c("l2") + c("l3") + self.chain_length(t)
        versions = c("model") * c("versions-per-model")
        return (
            1
            + c("person")
            + c("pipeline")
            + c("raw")
            + 2 * c("versioned")
            + 2 * derived  # each derived dataset and the job that built it
            + c("feature-view") * (1 + c("features-per-view"))
            + c("experiment")
            + c("model")
            + 3 * versions  # version, training run, evaluation
            + c("deployment")
            + c("service")
        )

    @property
    def assets(self) -> int:
        return sum(self.team_assets(t) for t in range(self.teams))

    def _mean_team_assets(self) -> float:
        low, high = CHAIN_LENGTHS
        mean_chain = (high + (low + high) / 2) / 2 / CHAIN_EVERY
        return self.team_assets(1) + 2 * mean_chain

    # -- teams ------------------------------------------------------------------------

    def _team_names(self, t: int) -> _Team:
        domain = DOMAINS[t % len(DOMAINS)]
        counts = {key: self.count(key) for key in TEMPLATE}
        return _Team(t, f"{domain}-{t:05d}", domain, self.minter, counts)

    def team(self, t: int) -> list[Node]:
        """The nodes of team ``t`` (cached: probes revisit teams)."""
        return self._team_cache(t)

    def _generate_team(self, t: int) -> list[Node]:
        return _TeamBuilder(self, t).build()

    # -- records and submissions -------------------------------------------------------

    def records(self, teams: Iterable[int] | None = None) -> Iterator[Record]:
        """Records of some teams, written through RecordWriter, one team in memory at a time.

        A node of a team outside the submission that an edge points at gets a reference
        record (its rdf:type), as loaders write for what an input names but does not
        describe. Nodes the submission describes get none: admission types them from
        the submission itself.
        """
        chosen = range(self.teams) if teams is None else teams
        inside = set(chosen)
        for t in chosen:
            builder = _TeamBuilder(self, t)
            nodes = builder.build()
            outside = {iri for iri, u in builder.outside.items() if u not in inside}
            writer = RecordWriter(self.minter)
            for node in nodes:
                _write(writer, node, outside)
            yield from writer.records()

    def submission(self, teams: Sequence[int] | None = None, label: str | None = None) -> Submission:
        """One submission of some teams (all by default) whose records are re-generated on each call."""
        chosen = tuple(range(self.teams) if teams is None else teams)
        label = label or ("all" if teams is None else f"teams-{chosen[0]:05d}-{chosen[-1]:05d}")
        source = f"synthetic/seed-{self.seed}/assets-{self.requested}/{label}"
        digest = hashlib.sha256(f"{GENERATOR_VERSION}:{source}:{chosen}".encode()).hexdigest()
        return Submission(source, "synthetic", "sha256:" + digest, lambda: self.records(chosen), source)

    def submissions(self, batch_assets: int = 10_000) -> list[Submission]:
        """The graph split into submissions of whole teams, about ``batch_assets`` assets each.

        ``batch_assets`` at or below a team's size gives one submission per team.
        """
        per = max(1, round(batch_assets / (self.assets / self.teams)))
        return [self.submission(range(a, min(a + per, self.teams))) for a in range(0, self.teams, per)]

    # -- probes -----------------------------------------------------------------------

    def probe_team(self) -> int:
        """A team with a 200-step chain in the middle of the graph, so it has teams on both sides."""
        middle = self.teams // 2
        period = 2 * CHAIN_EVERY
        t = (middle - CHAIN_EVERY) // period * period + CHAIN_EVERY
        return t if 0 < t < self.teams else 0

    def _index(self, t: int) -> dict[NamedNode, Node]:
        return {node.iri: node for node in self.team(t)}

    def ancestors(self, iri: NamedNode, index: dict[NamedNode, Node] | None = None) -> int:
        """How many nodes mlg.lineage.trace(upstream) finds besides ``iri`` itself."""
        index = {} if index is None else index
        seen = {iri}
        queue = deque([iri])
        while queue:
            current = queue.popleft()
            node = index.get(current)
            if node is None:
                match = _TEAM_IN_IRI.search(current.value)
                if match is None or int(match.group(1)) >= self.teams:
                    continue  # an alias (sameAs) target: a leaf
                index.update(self._index(int(match.group(1))))
                node = index.get(current)
                if node is None:
                    continue
            for parent in node.lineage():
                if parent not in seen:
                    seen.add(parent)
                    queue.append(parent)
        return len(seen) - 1

    def probes(self, targets: Sequence[int] = (10, 100, 1000)) -> list[Probe]:
        """Nodes with about ``targets`` ancestors, then the node with the largest downstream.

        Candidates are the nodes of :meth:`probe_team`; closures are counted on the
        generated graph (no store needed), the way trace counts them.
        """
        t = self.probe_team()
        index: dict[NamedNode, Node] = {}
        sizes = [(node, self.ancestors(node.iri, index)) for node in self.team(t)]
        probes = []
        for target in targets:
            node, size = min(
                sizes, key=lambda pair: (abs(math.log((pair[1] + 1) / (target + 1))), pair[0].iri.value)
            )
            probes.append(Probe(f"~{target:,} ancestors", node.iri, node.kind, size))
        below = self._descendants(t)
        node, size = max(
            ((n, below[n.iri]) for n in self.team(t) if n.iri in below),
            key=lambda pair: (pair[1], pair[0].iri.value),
        )
        probes.append(Probe("largest downstream", node.iri, node.kind, self.ancestors(node.iri, index), size))
        return probes

    def _descendants(self, t: int) -> dict[NamedNode, int]:
        """Downstream closure sizes of team ``t``'s nodes, over the teams that can depend on them."""
        children: dict[NamedNode, list[NamedNode]] = {}
        for u in range(t, min(t + DOWNSTREAM_WINDOW + 1, self.teams)):
            for node in self.team(u):
                for parent in node.lineage():
                    children.setdefault(parent, []).append(node.iri)
                for alias in node.same_as:  # sameAs is walked both ways
                    children.setdefault(node.iri, []).append(alias)
        sizes = {}
        for node in self.team(t):
            seen = {node.iri}
            queue = deque([node.iri])
            while queue:
                for child in children.get(queue.popleft(), ()):
                    if child not in seen:
                        seen.add(child)
                        queue.append(child)
            sizes[node.iri] = len(seen) - 1
        return sizes


def _write(writer: RecordWriter, node: Node, outside: set[NamedNode]) -> None:
    """One node through the shared mapping, the way a loader writes an entry."""
    where = node.iri.value
    writer.node(node.iri, node.kind)
    for name, value in node.attributes:
        writer.attribute(name, value, where)
    for target in node.same_as:
        writer.same_as(target)
    for name, target, kind in node.edges:
        writer.edge(name, writer.reference(target, kind) if target in outside else target)
    for name, value in node.metrics:
        writer.metric(name, value, where)


class _TeamBuilder:
    """Generates one team's nodes from its own RNG; IRIs of other teams come from their names."""

    def __init__(self, graph: SyntheticGraph, t: int) -> None:
        self.graph = graph
        self.t = t
        self.rng = random.Random(f"{graph.seed}:{t}")
        self.names = graph._team_names(t)
        self.c = self.names.counts
        self.m = graph.minter
        self.nodes: list[Node] = []
        self.team = self.m.asset("team", self.names.slug)
        self.people: list[NamedNode] = []
        self.pipelines: list[NamedNode] = []
        self.latest: list[NamedNode] = []
        self.outside: dict[NamedNode, int] = {}
        """Nodes of other teams this team points at, with their team."""

    # -- helpers ----------------------------------------------------------------------

    def when(self, start_days: int = 0, span_days: int = 700) -> dt.datetime:
        return EPOCH + dt.timedelta(
            days=start_days + self.rng.randrange(span_days), seconds=self.rng.randrange(86400)
        )

    def fan_in(self, limit: int = 4) -> int:
        return min(limit, self.rng.choices((1, 2, 3, 4), FAN_IN_WEIGHTS)[0])

    def other_team(self) -> _Team | None:
        if self.t == 0:
            return None
        u = self.rng.randint(max(0, self.t - CROSS_TEAM_REACH), self.t - 1)
        return self.graph._team_names(u)

    def foreign(self, other: _Team, iri: NamedNode) -> NamedNode:
        self.outside[iri] = other.t
        return iri

    def owner(self) -> Edge:
        if self.rng.random() < 0.7:
            return ("ownedBy", self.team, "team")
        return ("ownedBy", self.rng.choice(self.people), "person")

    def common(self, name: str, *, tags: Sequence[str] = ()) -> list[tuple[str, Any]]:
        attributes: list[tuple[str, Any]] = [("name", name), ("created", self.when())]
        if self.rng.random() < 0.3:
            attributes.append(("description", f"{name}, maintained by {self.names.slug}."))
        if self.rng.random() < 0.5:
            attributes.append(("status", self.rng.choice(STATUSES)))
        if tags:
            attributes.append(("tag", list(tags)))
        return attributes

    def add(self, node: Node) -> NamedNode:
        self.nodes.append(node)
        return node.iri

    def dataset(self, uri: str, name: str, parents: Sequence[NamedNode], tags: Sequence[str]) -> NamedNode:
        """A dataset; a derived one (with parents) comes with the job that built it."""
        iri = self.m.dataset_from_uri(uri)
        namespace, qualified = split_dataset_uri(uri)
        attributes = [
            *self.common(name, tags=tags),
            ("namespace", namespace),
            ("qualifiedName", qualified),
            ("sourceRegistry", "openlineage"),
        ]
        edges: list[Edge] = [self.owner()]
        same_as: tuple[NamedNode, ...] = ()
        if parents:
            pipeline = self.rng.choice(self.pipelines)
            job_namespace = f"airflow://{self.names.slug}"
            job_name = f"{pipeline.value.rsplit('/', 1)[-1]}.build_{qualified.rsplit('.', 1)[-1]}"
            job = self.add(
                Node(
                    self.m.qualified("job", job_namespace, job_name),
                    "job",
                    (
                        *self.common(job_name),
                        ("namespace", job_namespace),
                        ("qualifiedName", job_name),
                        ("sourceRegistry", "openlineage"),
                    ),
                    (
                        ("partOf", pipeline, "pipeline"),
                        *(("used", p, "dataset") for p in parents),
                        self.owner(),
                    ),
                )
            )
            edges += [*(("derivedFrom", p, "dataset") for p in parents), ("producedBy", job, "job")]
        elif uri.startswith("s3://") and self.rng.random() < 0.05:
            same_as = (
                self.m.dataset_from_uri("s3a://" + uri.removeprefix("s3://")),
            )  # the Spark connector's name
        return self.add(Node(iri, "dataset", tuple(attributes), tuple(edges), same_as=same_as))

    # -- the team ---------------------------------------------------------------------

    def build(self) -> list[Node]:
        c, slug, m, rng = self.c, self.names.slug, self.m, self.rng
        self.add(
            Node(
                self.team,
                "team",
                (("name", f"{self.names.domain.title()} team {self.t}"), ("email", f"{slug}@example.com")),
            )
        )
        self.people = [
            self.add(
                Node(
                    m.asset("person", f"{slug}-person-{i}"),
                    "person",
                    (("name", f"Person {i} of {slug}"), ("email", f"person{i}.{slug}@example.com")),
                    (("memberOf", self.team, "team"),),
                )
            )
            for i in range(c["person"])
        ]
        self.pipelines = [
            self.add(
                Node(
                    m.asset("pipeline", f"{slug}-dag-{i:02d}"),
                    "pipeline",
                    (
                        *self.common(f"{slug}_dag_{i:02d}"),
                        ("sourceUrl", f"https://airflow.example.com/dags/{slug}_dag_{i:02d}"),
                    ),
                    (self.owner(),),
                )
            )
            for i in range(c["pipeline"])
        ]
        raw = [
            self.dataset(
                f"s3://{slug}-landing/events/table_{i:03d}", f"{slug} raw table {i}", (), ("raw", slug)
            )
            for i in range(c["raw"])
        ]
        l1 = [
            self.dataset(
                f"bigquery:{slug}.curated.source_{i:03d}",
                f"{slug} curated source {i}",
                rng.sample(raw, self.fan_in(len(raw))),
                ("curated",),
            )
            for i in range(c["l1"])
        ]
        l2 = []
        for i in range(c["l2"]):
            parents = rng.sample(l1, self.fan_in(len(l1)))
            other = self.other_team()
            if other is not None and rng.random() < 0.2:
                parents[-1] = self.foreign(
                    other, other.l1(rng.randrange(other.counts["l1"]))
                )  # a curated source of another team
            l2.append(
                self.dataset(f"bigquery:{slug}.warehouse.table_{i:03d}", f"{slug} table {i}", parents, ())
            )
        marts = [
            self.dataset(
                f"bigquery:{slug}.marts.mart_{i:03d}",
                f"{slug} mart {i}",
                rng.sample(l1 + l2, self.fan_in(len(l1 + l2))),
                ("mart",),
            )
            for i in range(c["l3"])
        ]
        chain = self.chain(l1 + l2 + marts)
        versions = self.versions(raw[: c["versioned"] // 2] + marts[: c["versioned"] - c["versioned"] // 2])
        features = self.features(l2 + marts, chain)
        self.models(l2 + marts, versions, features, chain)
        self.serving()
        return self.nodes

    def chain(self, side: list[NamedNode]) -> list[NamedNode]:
        """A long derivation chain: each step derives from the last and from 0-3 side sources."""
        steps: list[NamedNode] = []
        for k in range(self.graph.chain_length(self.t)):
            parents = [steps[-1]] if steps else []
            wanted = self.fan_in() - len(parents)
            parents += self.rng.sample(side, min(len(side), max(0, wanted)))
            other = self.other_team()
            if other is not None and self.rng.random() < 0.2:
                parents.append(self.foreign(other, other.l1(self.rng.randrange(other.counts["l1"]))))
            steps.append(
                self.dataset(
                    f"bigquery:{self.names.slug}.chain.step_{k:03d}",
                    f"{self.names.slug} chain step {k}",
                    parents,
                    (),
                )
            )
        return steps

    def versions(self, datasets: list[NamedNode]) -> list[NamedNode]:
        """Two dated snapshots of each dataset, the second replacing the first."""
        found = []
        for dataset in datasets:
            previous = None
            for day in sorted(self.rng.sample(range(700), 2)):
                label = (EPOCH + dt.timedelta(days=day)).date().isoformat()
                edges: list[Edge] = [("versionOf", dataset, "dataset"), self.owner()]
                if previous is not None:
                    edges.append(("previousVersion", previous, "dataset-version"))
                previous = self.add(
                    Node(
                        self.m.version(dataset, label),
                        "dataset-version",
                        (
                            ("name", f"snapshot {label}"),
                            ("version", label),
                            ("created", EPOCH + dt.timedelta(days=day)),
                        ),
                        tuple(edges),
                    )
                )
                found.append(previous)
        return found

    def features(self, sources: list[NamedNode], chain: list[NamedNode]) -> list[NamedNode]:
        """Feature views over warehouse tables and marts (the first over the chain's end)."""
        found = []
        for v in range(self.c["feature-view"]):
            parents = self.rng.sample(sources, self.fan_in(3))
            if v == 0 and chain:
                parents[0] = chain[-1]
            view = self.add(
                Node(
                    self.m.asset("feature-view", f"{self.names.slug}.view_{v:02d}"),
                    "feature-view",
                    tuple(self.common(f"{self.names.slug} view {v}")),
                    (*(("derivedFrom", p, "dataset") for p in parents), self.owner()),
                )
            )
            for j in range(self.c["features-per-view"]):
                found.append(
                    self.add(
                        Node(
                            self.names.feature(v, j),
                            "feature",
                            tuple(self.common(f"{self.names.slug} view {v} feature {j}")),
                            (
                                ("partOf", view, "feature-view"),
                                ("derivedFrom", self.rng.choice(parents), "dataset"),
                                self.owner(),
                            ),
                        )
                    )
                )
        return found

    def models(
        self,
        tables: list[NamedNode],
        snapshots: list[NamedNode],
        features: list[NamedNode],
        chain: list[NamedNode],
    ) -> None:
        """Models, each version with its training run and evaluation; some fine-tuned from another."""
        c, slug, m, rng = self.c, self.names.slug, self.m, self.rng
        experiments = [
            self.add(
                Node(
                    m.asset("experiment", f"{slug}-experiment-{i:02d}"),
                    "experiment",
                    (
                        *self.common(f"{slug} experiment {i}"),
                        ("sourceUrl", f"https://mlflow.example.com/#/experiments/{self.t * 100 + i}"),
                    ),
                    (self.owner(),),
                )
            )
            for i in range(c["experiment"])
        ]
        all_versions: list[NamedNode] = []
        for i in range(c["model"]):
            model = self.add(
                Node(
                    m.asset("model", f"{slug}-model-{i:02d}"),
                    "model",
                    (*self.common(f"{slug} model {i}"), ("license", "proprietary")),
                    (self.owner(),),
                )
            )
            previous = None
            base = rng.choice(all_versions) if all_versions and rng.random() < 0.1 else None
            for v in range(1, c["versions-per-model"] + 1):
                data: list[tuple[NamedNode, str]] = [
                    (t, "dataset") for t in rng.sample(tables, self.fan_in(3))
                ]
                if chain and i < 3:  # some models of a platform team train on the chain
                    data[0] = (chain[rng.randrange(len(chain))] if i else chain[-1], "dataset")
                if rng.random() < 0.3:
                    data.append((rng.choice(snapshots), "dataset-version"))
                used = [("used", target, kind) for target, kind in data]
                run = self.add(
                    Node(
                        m.asset("training-run", f"{slug}-model-{i:02d}-run-{v}"),
                        "training-run",
                        (
                            ("name", f"{slug} model {i} training {v}"),
                            ("startedAt", (started := self.when())),
                            ("endedAt", started + dt.timedelta(minutes=rng.randrange(5, 600))),
                            ("sourceRegistry", "mlflow"),
                        ),
                        (("partOf", rng.choice(experiments), "experiment"), *used, self.owner()),
                        (("train_loss", round(rng.uniform(0.05, 0.6), 4)),),
                    )
                )
                uses = rng.sample(features, min(len(features), rng.randint(2, 5)))
                other = self.other_team()
                if other is not None and rng.random() < 0.2:
                    view = rng.randrange(other.counts["feature-view"])
                    uses.append(
                        self.foreign(
                            other, other.feature(view, rng.randrange(other.counts["features-per-view"]))
                        )
                    )
                edges: list[Edge] = [
                    ("versionOf", model, "model"),
                    ("producedBy", run, "training-run"),
                    *(("trainedOn", target, kind) for target, kind in data),
                    *(("usesFeature", f, "feature") for f in uses),
                    self.owner(),
                ]
                if previous is not None:
                    edges.append(("previousVersion", previous, "model-version"))
                if base is not None:
                    edges.append(("fineTunedFrom", base, "model-version"))
                latest = v == c["versions-per-model"]
                previous = self.add(
                    Node(
                        m.version(model, str(v)),
                        "model-version",
                        (
                            ("name", f"{slug} model {i} v{v}"),
                            ("version", str(v)),
                            ("stage", "production" if latest else "archived"),
                            ("created", self.when()),
                            ("sourceRegistry", "mlflow"),
                        ),
                        tuple(edges),
                    )
                )
                all_versions.append(previous)
                self.add(
                    Node(
                        m.asset("evaluation", f"{slug}-model-{i:02d}-eval-{v}"),
                        "evaluation",
                        (("name", f"{slug} model {i} v{v} holdout"), ("startedAt", self.when())),
                        (
                            ("evaluates", previous, "model-version"),
                            ("evaluatedOn", rng.choice(snapshots), "dataset-version"),
                            self.owner(),
                        ),
                        tuple(
                            (name, round(rng.random(), 4)) for name in rng.sample(METRICS, rng.randint(2, 4))
                        ),
                    )
                )
            self.latest.append(previous)  # type: ignore[arg-type]

    def serving(self) -> None:
        """Deployments of the latest versions; services consuming them, one another (in a cycle)
        and other teams' deployments."""
        c, slug, m, rng = self.c, self.names.slug, self.m, self.rng
        for i in range(c["deployment"]):
            self.add(
                Node(
                    self.names.deployment(i),
                    "deployment",
                    (
                        ("name", f"{slug} endpoint {i}"),
                        ("stage", rng.choice(("production", "production", "staging"))),
                        ("sourceUrl", f"https://serving.example.com/endpoints/{slug}-{i}"),
                    ),
                    (("deploys", self.latest[i % len(self.latest)], "model-version"), self.owner()),
                )
            )
        services = [m.asset("service", f"{slug}-service-{i:02d}") for i in range(c["service"])]
        for i, service in enumerate(services):
            edges: list[Edge] = [
                ("consumes", self.names.deployment(rng.randrange(c["deployment"])), "deployment")
            ]
            other = self.other_team()
            if other is not None and rng.random() < 0.25:
                edges.append(
                    (
                        "consumes",
                        self.foreign(other, other.deployment(rng.randrange(other.counts["deployment"]))),
                        "deployment",
                    )
                )
            if i and rng.random() < 0.5:
                edges.append(("consumes", services[rng.randrange(i)], "service"))
            if i == 0 and len(services) >= 3:
                edges.append(("consumes", services[2], "service"))  # 0 -> 2 -> 1 -> 0: a cycle
            if i == 2:
                edges.append(("consumes", services[1], "service"))
            if i == 1:
                edges.append(("consumes", services[0], "service"))
            self.add(
                Node(
                    service,
                    "service",
                    (
                        *self.common(f"{slug} service {i}"),
                        ("sourceUrl", f"https://backstage.example.com/{slug}-{i}"),
                    ),
                    (*dict.fromkeys(edges), ("ownedBy", self.team, "team")),
                )
            )
