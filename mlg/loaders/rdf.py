"""Native RDF in the project's vocabulary: Turtle, N-Triples, N-Quads, TriG, JSON-LD, RDF/XML.

All graphs of a dataset format are merged into the submission's one graph. Relative
IRIs resolve against the base IRI, so ``<model/churn>`` is the same node the other
loaders mint. Blank nodes are skolemised (RDF 1.1 §3.5) so a changed file can be
replaced by a difference. RDF/XML with a DOCTYPE is refused: entity expansion
("billion laughs") would let a few bytes fill the memory.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from xml.parsers import expat

from pyoxigraph import BlankNode, NamedNode, Quad, RdfFormat, Triple, parse

from mlg.errors import InputError
from mlg.identity import Minter
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
MAX_XML_DEPTH = 256
_DOCTYPE = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _load(request: Request, name: str) -> Submission:
    rdf_format = _FORMATS[name][0]
    if rdf_format == RdfFormat.RDF_XML and _DOCTYPE.search(request.data):
        raise InputError(
            "RDF/XML with a DOCTYPE or entity declarations is refused (entity expansion can exhaust memory)",
            where=str(request.path),
        )
    if rdf_format == RdfFormat.RDF_XML:
        _check_xml_depth(request)
    source = request.default_source()
    try:
        quads = list(parse(request.data, rdf_format, base_iri=request.minter.base))
    except (SyntaxError, ValueError) as error:
        if "LoadDocumentCallback" in str(error):
            raise InputError(
                "a remote context is not fetched (it could reach any server); inline the @context",
                where=str(request.path),
            ) from None
        raise InputError(f"not valid {name}: {error}", where=str(request.path)) from None

    by_subject: dict[object, Record] = {}
    for triple in skolemise(quads, request.minter, source):
        by_subject.setdefault(triple.subject, []).append(triple)
    records = list(by_subject.values())
    return Submission(source, name, sha256_digest(request.data), lambda: iter(records), str(request.path))


def skolemise(quads: Iterable[Quad | Triple], minter: Minter, scope: str) -> Iterator[Triple]:
    """The triples with blank nodes as skolem IRIs (RDF 1.1 §3.5), labelled b0, b1... in order
    of first appearance: the parser's own labels are random for ``[]``, and a reload must
    mint the same IRIs so that a replaced graph differs only where the file did."""
    labels: dict[str, NamedNode] = {}

    def skolem(term: Any) -> Any:
        if not isinstance(term, BlankNode):
            return term
        iri = labels.get(term.value)
        if iri is None:
            iri = labels[term.value] = minter.skolem(scope, f"b{len(labels)}")
        return iri

    for quad in quads:
        yield Triple(skolem(quad.subject), quad.predicate, skolem(quad.object))


class _TooDeep(Exception):
    pass


def _check_xml_depth(request: Request) -> None:
    """Refuse deeply nested RDF/XML before parsing it: the RDF/XML parser slows down with
    the square of the depth, so 100,000 nested elements would hold a worker for minutes."""
    depth = 0

    def start(*_: object) -> None:
        nonlocal depth
        depth += 1
        if depth > MAX_XML_DEPTH:
            raise _TooDeep

    def end(*_: object) -> None:
        nonlocal depth
        depth -= 1

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    try:
        parser.Parse(request.data, True)
    except _TooDeep:
        raise InputError(
            f"RDF/XML nested deeper than {MAX_XML_DEPTH} elements is refused", where=str(request.path)
        ) from None
    except expat.ExpatError as error:
        raise InputError(
            f"not valid rdfxml: {expat.errors.messages[error.code]}",
            where=f"{request.path}:{error.lineno}:{error.offset + 1}",
        ) from None


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
