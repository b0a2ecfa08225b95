"""A submission: one input (a file, an export, a batch of events) on its way into the graph.

Loaders make submissions; admission validates and commits them. The triples come as
*records*, each the triples about one node, so that admission can validate and write
a large input in bounded batches without holding all of it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from pyoxigraph import DefaultGraph, NamedNode, Triple

Record = list[Triple]


@dataclass(frozen=True)
class Submission:
    source: str
    """What the input is, stably: loading the same source again replaces its graph."""
    format: str
    digest: str
    """``sha256:<hex>`` of the input bytes: an unchanged input is not admitted twice."""
    records: Callable[[], Iterator[Record]]
    """A fresh iterator over the records each time it is called (admission may read twice)."""
    location: str = ""
    """Where the input was read from, for messages."""
    warnings: Mapping[str, int] = field(default_factory=dict)
    """What the loader could not map, counted by kind (``unknown facet``: 3), for the load summary."""
    graph: NamedNode | DefaultGraph | None = None
    """The graph a client named for it (Graph Store Protocol PUT and POST); ``None``: the graph
    minted from ``source``. Such a submission replaces that graph whatever its digest, and its
    provenance goes to a separate graph so the graph holds exactly what the client sent."""


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def records_digest(records: Iterable[Record]) -> str:
    """``sha256:<hex>`` of records' triples in a canonical order, for inputs that are not bytes
    (a live MLflow tracking server): an unchanged registry is then not admitted twice."""
    lines = sorted(str(triple) for record in records for triple in record)
    return sha256_digest("\n".join(lines).encode())
