"""Upstream, downstream and impact analysis over the lineage edges.

One implementation for every face of mlg: the CLI, the HTTP API and the web page
call :func:`trace` and :func:`impact`. Depth is unbounded by default (one SPARQL
property-path query), or bounded with ``depth`` (one query a level). Both return
the *edges* of the subgraph, so it can be drawn, and follow ``owl:sameAs`` at no
cost in depth: two names of one asset are one place in the lineage.

The long-running server passes a :class:`~mlg.lineage_index.LineageIndex` (``index=``):
the same walk then reads the edges, kinds and names from memory instead of the store.
Rows are put in order before the walk, so both sources give the same answer, in the
same order; of a node's several names, the smallest is shown.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from pyoxigraph import Literal as RdfLiteral
from pyoxigraph import NamedNode

from mlg import resources
from mlg.errors import NotFoundError, UsageError
from mlg.identity import Minter
from mlg.store import GraphStore
from mlg.vocab import KINDS, MLG, OWL_SAME_AS, ontology

if TYPE_CHECKING:
    from mlg.lineage_index import LineageFacts, LineageIndex

Direction = Literal["upstream", "downstream"]
MATCHES = 20
"""Most nodes of one name :func:`resolve` lists (``find_by_name.rq`` has the same LIMIT)."""
SAME_AS = "sameAs"
Row = tuple[Any, NamedNode, Any]
"""An edge as the step queries return it: (source, predicate, target)."""
Step = Callable[[set[Any]], Iterable[Any]]
"""The rows one level further from a frontier of nodes: from the store or the index."""


@dataclass(frozen=True)
class Node:
    iri: str
    kind: str | None
    name: str | None
    depth: int

    def as_dict(self) -> dict[str, Any]:
        return {"iri": self.iri, "kind": self.kind, "name": self.name, "depth": self.depth}


@dataclass(frozen=True)
class Edge:
    source: str
    """The asset that depends..."""
    edge: str
    """...by this edge (``trainedOn``, ``consumes``...; ``sameAs`` joins two names of one asset)..."""
    target: str
    """...on this one."""

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "edge": self.edge, "target": self.target}


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
        """The JSON of the API, built directly: :func:`dataclasses.asdict` deep-copies, slowly."""
        return {
            "root": self.root,
            "direction": self.direction,
            "depth": self.depth,
            "nodes": [node.as_dict() for node in self.nodes],
            "edges": [edge.as_dict() for edge in self.edges],
        }


@dataclass
class Owner:
    iri: str
    kind: str | None
    name: str | None
    email: str | None
    assets: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "iri": self.iri,
            "kind": self.kind,
            "name": self.name,
            "email": self.email,
            "assets": list(self.assets),
        }


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
            "affected": {k: [n.as_dict() for n in v] for k, v in self.affected.items()},
            "owners": [o.as_dict() for o in self.owners],
            "edges": [e.as_dict() for e in self.lineage.edges],
        }


def _values(nodes: Iterable[NamedNode]) -> str:
    # str(NamedNode) is "<iri>", and pyoxigraph refuses IRIs that could break out of it.
    return " ".join(str(node) for node in nodes)


def lineage_query(name: str) -> str:
    """A lineage query with the ontology's edge and kind lists written in."""
    return (
        resources.query(name)
        .replace("#EDGES", _values(ontology().lineage_properties))
        .replace("#KINDS", " ".join(f"<{MLG}{local}>" for local in KINDS.values()))
    )


def _rows(store: GraphStore, name: str, nodes: Iterable[NamedNode]) -> Any:
    return store.query(lineage_query(name).replace("#VALUES", _values(nodes)))


def _row_order(row: Any) -> tuple[str, str, str]:
    source, predicate, target = row
    return source.value, predicate.value, target.value


def _edges_from_rows(rows: Iterable[Any]) -> dict[tuple[NamedNode, NamedNode], NamedNode]:
    """The one edge a person wants to see between two nodes: the most specific of ours.

    The rows are sorted first: the store returns them in an order of its own, and the
    order decides which way round a sameAs is shown, and the order of edges and nodes.
    """
    onto = ontology()
    candidates: dict[tuple[NamedNode, NamedNode], list[NamedNode]] = {}
    for source, predicate, target in sorted(rows, key=_row_order):
        if predicate == OWL_SAME_AS or predicate in onto.lineage_properties:
            key = (source, target)
            if predicate == OWL_SAME_AS and (target, source) in candidates:
                continue
            candidates.setdefault(key, []).append(predicate)
    return {key: _shown(tuple(predicates)) for key, predicates in candidates.items()}  # type: ignore[misc]


@cache
def _shown(predicates: tuple[NamedNode, ...]) -> NamedNode | None:
    """sameAs if one of the predicates is, else the most specific (a few dozen sets: cached)."""
    return OWL_SAME_AS if OWL_SAME_AS in predicates else ontology().most_specific(predicates)


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


def _bounded_rows(step: Step, root: NamedNode, limit: int | None) -> list[Any]:
    """Rows of edges within ``limit`` hops (None: all of them), one step a level."""
    seen = {root}
    frontier = {root}
    rows: list[Any] = []
    level = 0
    while frontier and (limit is None or level <= limit):  # one extra level: sameAs twins of the last
        level += 1
        found = list(step(frontier))
        rows += found
        frontier = set()
        for source, _, target in found:
            for node in (source, target):
                if node not in seen:
                    seen.add(node)
                    frontier.add(node)
    return rows


def trace(
    store: GraphStore,
    root: NamedNode,
    direction: Direction = "upstream",
    depth: int | None = None,
    *,
    index: LineageIndex | None = None,
) -> Lineage:
    """The lineage subgraph on one side of ``root``: every node with its depth, every edge.

    With ``index``, the edges, kinds and names come from it, in one hold of its lock (a
    consistent state even while the server refreshes it); the answer is the same.
    """
    if direction not in ("upstream", "downstream"):
        raise UsageError(f"direction must be upstream or downstream, not {direction!r}")
    if depth is not None and depth < 0:
        raise UsageError("depth must be 0 or more")
    if index is not None:
        with index.reading() as facts:
            rows = _bounded_rows(lambda frontier: facts.step(frontier, direction), root, depth)
            return _lineage(root, direction, depth, rows, lambda depths: _described(facts, depths))
    if depth is None:
        query = "lineage_upstream" if direction == "upstream" else "lineage_downstream"
        rows = list(store.query(lineage_query(query), {"root": root}))
    else:
        name = "upstream_step" if direction == "upstream" else "downstream_step"
        rows = _bounded_rows(lambda frontier: _rows(store, name, frontier), root, depth)
    return _lineage(root, direction, depth, rows, lambda depths: describe(store, depths))


def _lineage(
    root: NamedNode,
    direction: Direction,
    depth: int | None,
    rows: Iterable[Any],
    describe_nodes: Callable[[dict[NamedNode, int]], list[Node]],
) -> Lineage:
    """The walk, whatever the rows come from."""
    edges = _edges_from_rows(rows)
    depths = _depths(root, edges, direction, depth)
    kept = {key: p for key, p in edges.items() if key[0] in depths and key[1] in depths}
    return Lineage(
        root.value,
        direction,
        depth,
        sorted(describe_nodes(depths), key=lambda n: (n.depth, n.kind or "", n.name or n.iri)),
        [Edge(s.value, _local(p), o.value) for (s, o), p in kept.items()],
    )


def describe(store: GraphStore, depths: dict[NamedNode, int]) -> list[Node]:
    """Kind and name of each node, for people to read (of several names, the smallest)."""
    onto = ontology()
    types: dict[NamedNode, list[NamedNode]] = {node: [] for node in depths}
    names: dict[NamedNode, str] = {}
    nodes = list(depths)
    for start in range(0, len(nodes), 1000):
        for row in _rows(store, "describe_nodes", nodes[start : start + 1000]):
            node = row["node"]
            if row["type"] is not None:
                types[node].append(row["type"])
            name = row["name"]
            if name is not None and (node not in names or name.value < names[node]):
                names[node] = name.value
    return [Node(node.value, onto.kind(types[node]), names.get(node), depths[node]) for node in nodes]


def _described(facts: LineageFacts, depths: dict[NamedNode, int]) -> list[Node]:
    """:func:`describe` from the index."""
    return [Node(node.value, *facts.describe(node), depth) for node, depth in depths.items()]


def _describe(store: GraphStore, index: LineageIndex | None, depths: dict[NamedNode, int]) -> list[Node]:
    if index is None:
        return describe(store, depths)
    with index.reading() as facts:
        return _described(facts, depths)


def impact(
    store: GraphStore, root: NamedNode, depth: int | None = None, *, index: LineageIndex | None = None
) -> Impact:
    """What depends on ``root``, by kind, and who owns it: the people to tell before a change.

    ``index`` serves the lineage; the owners are always asked of the store.
    """
    lineage = trace(store, root, "downstream", depth, index=index)
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


def resolve(store: GraphStore, minter: Minter, ref: str, *, index: LineageIndex | None = None) -> NamedNode:
    """The node a person means: an IRI, a ``kind:id`` reference, or an exact name.

    A node the index knows exists; one it does not know may still be in the store
    (with neither lineage, kind nor name), so the store is asked then.
    """
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
        known = index is not None and index.knows(node)
        if not known and not store.query(resources.query("node_exists"), {"node": node}):
            raise NotFoundError(f"{ref} ({node.value}) is not in the store")
        return node
    if index is not None:
        with index.reading() as facts:
            matches = facts.named(ref)[:MATCHES]
    else:
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


@cache
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

    def as_dict(self) -> dict[str, Any]:
        return {
            "iri": self.iri,
            "kind": self.kind,
            "name": self.name,
            "owners": list(self.owners),
            "tags": list(self.tags),
        }


@dataclass
class Search:
    assets: list[Hit]
    limit: int
    offset: int
    more: bool
    """Whether another page follows."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "assets": [hit.as_dict() for hit in self.assets],
            "limit": self.limit,
            "offset": self.offset,
            "more": self.more,
        }


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
        lineage_query("search_assets")
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

    def as_dict(self) -> dict[str, Any]:
        return {"iri": self.iri, "kind": self.kind, "name": self.name, "edge": self.edge}


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
        return {
            "iri": self.iri,
            "kind": self.kind,
            "name": self.name,
            "properties": {p: list(values) for p, values in self.properties.items()},
            "upstream": [n.as_dict() for n in self.upstream],
            "downstream": [n.as_dict() for n in self.downstream],
        }


def asset(store: GraphStore, node: NamedNode, *, index: LineageIndex | None = None) -> Asset:
    """One asset: its properties and its direct neighbours on both sides.

    ``index`` serves the neighbours, the kind and the name; the properties are asked of the store.
    """
    properties: dict[str, list[str]] = {}
    for row in store.query(resources.query("asset_properties"), {"node": node}):
        values = properties.setdefault(row["p"].value, [])
        if row["o"].value not in values:
            values.append(row["o"].value)
    sides: dict[str, list[Neighbour]] = {}
    for direction in ("upstream", "downstream"):
        lineage = trace(store, node, direction, 1, index=index)  # type: ignore[arg-type]
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
    (described,) = _describe(store, index, {node: 0})
    return Asset(
        node.value,
        described.kind,
        described.name,
        dict(sorted(properties.items())),
        sides["upstream"],
        sides["downstream"],
    )
