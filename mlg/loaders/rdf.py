"""Native RDF in the project's vocabulary: Turtle, N-Triples, N-Quads, TriG, JSON-LD, RDF/XML.

All graphs of a dataset format are merged into the submission's one graph. Relative
IRIs resolve against the base IRI, so ``<model/churn>`` is the same node the other
loaders mint. Blank nodes are skolemised (RDF 1.1 §3.5) so a changed file can be
replaced by a difference. RDF/XML with a DOCTYPE is refused: entity expansion
("billion laughs") would let a few bytes fill the memory.
"""

from __future__ import annotations

import re
from pathlib import Path

from pyoxigraph import BlankNode, RdfFormat, Triple, parse

from mlg.errors import InputError
from mlg.loaders import Format, Request
from mlg.submission import Record, Submission, sha256_digest

_FORMATS = {
    "turtle": (RdfFormat.TURTLE, (".ttl",)),
    "ntriples": (RdfFormat.N_TRIPLES, (".nt",)),
    "nquads": (RdfFormat.N_QUADS, (".nq",)),
    "trig": (RdfFormat.TRIG, (".trig",)),
    "jsonld": (RdfFormat.JSON_LD, (".jsonld",)),
    "rdfxml": (RdfFormat.RDF_XML, (".rdf", ".owl")),
}
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _load(request: Request, name: str) -> Submission:
    rdf_format = _FORMATS[name][0]
    if rdf_format == RdfFormat.RDF_XML and _DOCTYPE.search(request.data):
        raise InputError(
            "RDF/XML with a DOCTYPE or entity declarations is refused (entity expansion can exhaust memory)",
            where=str(request.path),
        )
    source = request.default_source()
    try:
        quads = list(parse(request.data, rdf_format, base_iri=request.minter.base))
    except SyntaxError as error:
        raise InputError(f"not valid {name}: {error}", where=str(request.path)) from None
    except ValueError as error:  # JSON-LD remote contexts and similar refusals
        raise InputError(f"refused {name}: {error}", where=str(request.path)) from None

    def skolem(term: object) -> object:
        return request.minter.skolem(source, term.value) if isinstance(term, BlankNode) else term

    by_subject: dict[object, Record] = {}
    for quad in quads:
        subject = skolem(quad.subject)
        triple = Triple(subject, quad.predicate, skolem(quad.object))  # type: ignore[arg-type]
        by_subject.setdefault(subject, []).append(triple)
    records = list(by_subject.values())
    return Submission(source, name, sha256_digest(request.data), lambda: iter(records), str(request.path))


def _format(name: str) -> Format:
    extensions = _FORMATS[name][1]

    def sniff(path: Path, head: bytes) -> bool:
        if path.suffix.lower() in extensions:
            return True
        return name == "jsonld" and path.suffix.lower() == ".json" and b'"@context"' in head

    return Format(
        name,
        extensions,
        f"RDF as {name} ({', '.join(extensions)})",
        sniff,
        lambda request: _load(request, name),
    )


FORMATS = [_format(name) for name in _FORMATS]
