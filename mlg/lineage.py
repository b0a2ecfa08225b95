"""Upstream, downstream and impact analysis over the lineage edges.

One implementation for every face of mlg: the CLI, the HTTP API and the web page
call :func:`trace` and :func:`impact`. Depth is unbounded by default (one SPARQL
property-path query), or bounded with ``depth`` (one query a level). Both return
the *edges* of the subgraph, so it can be drawn, and follow ``owl:sameAs`` at no
cost in depth: two names of one asset are one place in the lineage.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from pyoxigraph import Literal as RdfLiteral
from pyoxigraph import NamedNode

from mlg import resources
from mlg.errors import NotFoundError, UsageError
from mlg.identity import Minter
from mlg.store import GraphStore
from mlg.vocab import KINDS, MLG, OWL_SAME_AS, ontology

Direction = Literal["upstream", "downstream"]
SAME_AS = "sameAs"


@dataclass(frozen=True)
class Node:
    iri: str
    kind: str | None
    name: str | None
    depth: int


@dataclass(frozen=True)
class Edge:
    source: str
    """The asset that depends..."""
    edge: str
    """...by this edge (``trainedOn``, ``consumes``...; ``sameAs`` joins two names of one asset)..."""
    target: str
    """...on this one."""


@dataclass
class Lineage:
    root: str
    direction: Direction
    depth: int | None
    nodes: list[Node]
    edges: list[Edge]

    def node(self, iri: str) -> Node:
        return next(n for n in self.nodes if n.iri == iri)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Owner:
    iri: str
    kind: str | None
    name: str | None
    email: str | None
    assets: list[str] = field(default_factory=list)


@dataclass
class Impact:
    root: str
    lineage: Lineage
    affected: dict[str, list[Node]]
    """Affected assets by kind, nearest first; the root itself is not among them."""
    owners: list[Owner]
    """Who to notify, with the affected assets each owns."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "affected": {k: [asdict(n) for n in v] for k, v in self.affected.items()},
            "owners": [asdict(o) for o in self.owners],
            "edges": [asdict(e) for e in self.lineage.edges],
        }


def _values(nodes: Iterable[NamedNode]) -> str:
    # str(NamedNode) is "<iri>", and pyoxigraph refuses IRIs that could break out of it.
    return " ".join(str(node) for node in nodes)


def _query(name: str) -> str:
    """A lineage query with the ontology's edge and kind lists written in."""
    return (
        resources.query(name)
        .replace("#EDGES", _values(ontology().lineage_properties))
        .replace("#KINDS", " ".join(f"<{MLG}{local}>" for local in KINDS.values()))
    )


def _rows(store: GraphStore, name: str, nodes: Iterable[NamedNode]) -> Any:
    return store.query(_query(name).replace("#VALUES", _values(nodes)))


def _edges_from_rows(rows: Any) -> dict[tuple[NamedNode, NamedNode], NamedNode]:
    """The one edge a person wants to see between two nodes: the most specific of ours."""
    onto = ontology()
    candidates: dict[tuple[NamedNode, NamedNode], list[NamedNode]] = {}
    for source, predicate, target in rows:
        if predicate == OWL_SAME_AS or predicate in onto.lineage_properties:
            key = (source, target)
            if predicate == OWL_SAME_AS and (target, source) in candidates:
                continue
            candidates.setdefault(key, []).append(predicate)
    chosen = {}
    for key, predicates in candidates.items():
        chosen[key] = OWL_SAME_AS if OWL_SAME_AS in predicates else onto.most_specific(predicates)
    return chosen  # type: ignore[return-value]


def _depths(
    root: NamedNode,
    edges: dict[tuple[NamedNode, NamedNode], NamedNode],
    direction: Direction,
    limit: int | None,
) -> dict[NamedNode, int]:
    """Hops from the root by breadth-first search; sameAs costs nothing (0-1 BFS)."""
    neighbours: dict[NamedNode, list[tuple[NamedNode, int]]] = {}
    for (source, target), predicate in edges.items():
        cost = 0 if predicate == OWL_SAME_AS else 1
        if predicate == OWL_SAME_AS:
            neighbours.setdefault(source, []).append((target, 0))
            neighbours.setdefault(target, []).append((source, 0))
        elif direction == "upstream":
            neighbours.setdefault(source, []).append((target, cost))
        else:
            neighbours.setdefault(target, []).append((source, cost))
    depth = {root: 0}
    queue = deque([root])
    while queue:
        node = queue.popleft()
        for neighbour, cost in neighbours.get(node, ()):
            reached = depth[node] + cost
            if (limit is not None and reached > limit) or reached >= depth.get(neighbour, reached + 1):
                continue
            depth[neighbour] = reached
            if cost:
                queue.append(neighbour)
            else:
                queue.appendleft(neighbour)
    return depth


def _bounded_rows(store: GraphStore, root: NamedNode, direction: Direction, limit: int) -> list[Any]:
    """Rows of edges within ``limit`` hops, one query per level."""
    step = "upstream_step" if direction == "upstream" else "downstream_step"
    seen = {root}
    frontier = {root}
    rows: list[Any] = []
    for _ in range(limit + 1):  # one extra round picks up sameAs twins of the last level
        if not frontier:
            break
        found = list(_rows(store, step, frontier))
        rows += found
        frontier = set()
        for row in found:
            for node in (row["s"], row["o"]):
                if node not in seen:
                    seen.add(node)
                    frontier.add(node)
    return rows


def trace(
    store: GraphStore, root: NamedNode, direction: Direction = "upstream", depth: int | None = None
) -> Lineage:
    """The lineage subgraph on one side of ``root``: every node with its depth, every edge."""
    if direction not in ("upstream", "downstream"):
        raise UsageError(f"direction must be upstream or downstream, not {direction!r}")
    if depth is not None and depth < 0:
        raise UsageError("depth must be 0 or more")
    if depth is None:
        query = "lineage_upstream" if direction == "upstream" else "lineage_downstream"
        rows = list(store.query(_query(query), {"root": root}))
    else:
        rows = _bounded_rows(store, root, direction, depth)
    edges = _edges_from_rows(rows)
    depths = _depths(root, edges, direction, depth)
    kept = {key: p for key, p in edges.items() if key[0] in depths and key[1] in depths}
    nodes = describe(store, depths)
    return Lineage(
        root.value,
        direction,
        depth,
        sorted(nodes, key=lambda n: (n.depth, n.kind or "", n.name or n.iri)),
        [Edge(s.value, _local(p), o.value) for (s, o), p in kept.items()],
    )


def describe(store: GraphStore, depths: dict[NamedNode, int]) -> list[Node]:
    """Kind and name of each node, for people to read."""
    onto = ontology()
    types: dict[NamedNode, list[NamedNode]] = {node: [] for node in depths}
    names: dict[NamedNode, str] = {}
    nodes = list(depths)
    for start in range(0, len(nodes), 1000):
        for row in _rows(store, "describe_nodes", nodes[start : start + 1000]):
            node = row["node"]
            if row["type"] is not None:
                types[node].append(row["type"])
            if row["name"] is not None:
                names.setdefault(node, row["name"].value)
    return [Node(node.value, onto.kind(types[node]), names.get(node), depths[node]) for node in nodes]


def impact(store: GraphStore, root: NamedNode, depth: int | None = None) -> Impact:
    """What depends on ``root``, by kind, and who owns it: the people to tell before a change."""
    lineage = trace(store, root, "downstream", depth)
    affected: dict[str, list[Node]] = {}
    for node in lineage.nodes:
        if node.iri != root.value:
            affected.setdefault(node.kind or "unknown", []).append(node)
    owners: dict[str, Owner] = {}
    iris = [NamedNode(n.iri) for group in affected.values() for n in group]
    onto = ontology()
    for start in range(0, len(iris), 1000):
        for row in _rows(store, "owners", iris[start : start + 1000]):
            key = row["owner"].value
            owner = owners.get(key)
            if owner is None:
                kind = onto.kind([row["type"]]) if row["type"] is not None else None
                owner = owners[key] = Owner(key, kind, _text(row["name"]), _text(row["email"]))
            if row["asset"].value not in owner.assets:
                owner.assets.append(row["asset"].value)
    return Impact(root.value, lineage, affected, sorted(owners.values(), key=lambda o: o.name or o.iri))


def resolve(store: GraphStore, minter: Minter, ref: str) -> NamedNode:
    """The node a person means: an IRI, a ``kind:id`` reference, or an exact name."""
    ref = ref.strip()
    node: NamedNode | None = None
    if ref.startswith(("http://", "https://", "urn:")):
        try:
            node = NamedNode(ref)
        except ValueError:
            raise UsageError(f"{ref!r} is not a valid IRI") from None
    else:
        node = minter.reference(ref)
    if node is not None:
        if not store.query(resources.query("node_exists"), {"node": node}):
            raise NotFoundError(f"{ref} ({node.value}) is not in the store")
        return node
    found = store.query(resources.query("find_by_name"), {"wanted": RdfLiteral(ref)})
    matches = [row["node"] for row in found]
    if not matches:
        raise NotFoundError(f"no asset is named {ref!r}; give its IRI or kind:id (e.g. model:{ref})")
    if len(matches) > 1:
        raise UsageError(
            f"{len(matches)} assets are named {ref!r}; give one IRI: "
            + ", ".join(m.value for m in matches[:5])
        )
    return matches[0]


def _local(predicate: NamedNode) -> str:
    return SAME_AS if predicate == OWL_SAME_AS else predicate.value.removeprefix(MLG)


def _text(term: Any) -> str | None:
    return None if term is None else term.value


# ---------------------------------------------------------------- search and one asset


@dataclass
class Hit:
    iri: str
    kind: str | None
    name: str | None
    owners: list[str]
    tags: list[str]


@dataclass
class Search:
    assets: list[Hit]
    limit: int
    offset: int
    more: bool
    """Whether another page follows."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def kind_class(kind: str) -> NamedNode:
    """The class of a kind a person names (``model``, ``dataset-version``...)."""
    if kind not in KINDS:
        raise UsageError(f"unknown kind {kind!r}; kinds are " + ", ".join(KINDS))
    return NamedNode(MLG + KINDS[kind])


def owner_node(store: GraphStore, minter: Minter, owner: str) -> NamedNode:
    """A team or person: an IRI, ``team:id``, ``person:id``, or a bare id (a team first)."""
    owner = owner.strip()
    if owner.startswith(("http://", "https://", "urn:")) or ":" in owner:
        return resolve(store, minter, owner)
    for kind in ("team", "person"):
        node = minter.asset(kind, owner)
        if store.query(resources.query("node_exists"), {"node": node}):
            return node
    raise NotFoundError(f"no team or person {owner!r}; give its IRI, team:id or person:id")


def search(
    store: GraphStore,
    minter: Minter,
    q: str | None = None,
    *,
    kind: str | None = None,
    owner: str | None = None,
    tag: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> Search:
    """Assets by name substring (ignoring case), kind, owner and tag, in name order, one page."""
    if limit < 1 or offset < 0:
        raise UsageError("limit must be 1 or more and offset 0 or more")
    filters = []
    if q:
        filters.append(f"FILTER (CONTAINS(LCASE(STR(?name)), LCASE({RdfLiteral(q)})))")
    if kind:
        filters.append(f"?asset a {kind_class(kind)} .")
    if owner:
        filters.append(f"?asset mlg:ownedBy {owner_node(store, minter, owner)} .")
    if tag:
        filters.append(f"?asset mlg:tag ?tag . FILTER (LCASE(STR(?tag)) = LCASE({RdfLiteral(tag)}))")
    text = (
        _query("search_assets")
        .replace("#FILTERS", "\n  ".join(filters))
        .replace("#PAGE", f"LIMIT {int(limit) + 1} OFFSET {int(offset)}")
    )
    rows = list(store.query(text))
    more = len(rows) > limit
    found = [row["asset"] for row in rows[:limit]]
    described = {NamedNode(n.iri): n for n in describe(store, dict.fromkeys(found, 0))}
    owners: dict[NamedNode, list[str]] = {node: [] for node in found}
    tags: dict[NamedNode, list[str]] = {node: [] for node in found}
    if found:
        for row in _rows(store, "owners", found):
            if row["owner"].value not in owners[row["asset"]]:
                owners[row["asset"]].append(row["owner"].value)
        for row in _rows(store, "tags", found):
            tags[row["asset"]].append(row["tag"].value)
    hits = [
        Hit(node.value, described[node].kind, described[node].name, owners[node], sorted(tags[node]))
        for node in found
    ]
    return Search(hits, limit, offset, more)


@dataclass
class Neighbour:
    iri: str
    kind: str | None
    name: str | None
    edge: str


@dataclass
class Asset:
    iri: str
    kind: str | None
    name: str | None
    properties: dict[str, list[str]]
    """Every property by its IRI, each with its values (IRIs and literal values)."""
    upstream: list[Neighbour]
    """What the asset is built from, one hop away, by the edge that joins them."""
    downstream: list[Neighbour]
    """What is built from it, one hop away."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def asset(store: GraphStore, node: NamedNode) -> Asset:
    """One asset: its properties and its direct neighbours on both sides."""
    properties: dict[str, list[str]] = {}
    for row in store.query(resources.query("asset_properties"), {"node": node}):
        values = properties.setdefault(row["p"].value, [])
        if row["o"].value not in values:
            values.append(row["o"].value)
    sides: dict[str, list[Neighbour]] = {}
    for direction in ("upstream", "downstream"):
        lineage = trace(store, node, direction, 1)  # type: ignore[arg-type]
        nodes = {n.iri: n for n in lineage.nodes}
        near = []
        for edge in lineage.edges:
            if edge.edge == SAME_AS:
                continue
            own, other = (edge.source, edge.target) if direction == "upstream" else (edge.target, edge.source)
            if own == node.value:
                n = nodes[other]
                near.append(Neighbour(n.iri, n.kind, n.name, edge.edge))
        sides[direction] = sorted(near, key=lambda n: (n.edge, n.name or n.iri))
    (described,) = describe(store, {node: 0})
    return Asset(
        node.value,
        described.kind,
        described.name,
        dict(sorted(properties.items())),
        sides["upstream"],
        sides["downstream"],
    )
