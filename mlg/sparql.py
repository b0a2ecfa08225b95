"""Cheap looks at SPARQL text before it runs, without a full parse.

A full rdflib parse costs milliseconds; these read only the prologue and the first
keyword, which is all a caller needs to tell a query from an update.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from pyoxigraph import BlankNode, Literal, NamedNode

_PROLOGUE = re.compile(
    r"""\s*(?:
        \#[^\n]*                                   # a comment
      | PREFIX\s+[^\s:]*:\s*<[^>]*>                # PREFIX p: <iri>
      | BASE\s*<[^>]*>                             # BASE <iri>
    )""",
    re.IGNORECASE | re.VERBOSE,
)
_UPDATE_KEYWORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}


def first_keyword(text: str) -> str:
    """The first keyword after the prologue, upper-cased (SELECT, ASK, INSERT...)."""
    position = 0
    while match := _PROLOGUE.match(text, position):
        if match.end() == position:
            break
        position = match.end()
    word = re.match(r"\s*([A-Za-z]+)", text[position:])
    return word.group(1).upper() if word else ""


def is_update(text: str) -> bool:
    """Whether the text is a SPARQL update rather than a query.

    >>> is_update("PREFIX mlg: <https://w3id.org/mlg#> # a comment\\nDELETE WHERE { ?s ?p ?o }")
    True
    >>> is_update("SELECT * WHERE { ?s ?p ?o }")
    False
    """
    return first_keyword(text) in _UPDATE_KEYWORDS


def bind(text: str, bindings: Mapping[str, object]) -> str:
    """The query with each ``$name`` replaced by its term, written as SPARQL.

    pyoxigraph's substitutions do not start a property path at the bound node (a
    ``$root path* ?x`` walks every path, then filters), and a remote store takes no
    substitutions at all, so bindings are written into the text. Only terms pyoxigraph
    has already validated are accepted, and their N-Triples form cannot break out of
    its place: ``NamedNode`` refuses ``>`` and spaces, ``Literal`` escapes quotes.

    >>> bind("ASK { $node ?p ?o }", {"node": NamedNode("https://example.org/a")})
    'ASK { <https://example.org/a> ?p ?o }'
    """
    for name, term in bindings.items():
        if not isinstance(term, NamedNode | Literal | BlankNode):
            raise TypeError(f"cannot bind ${name} to {term!r}: not an RDF term")
        text = re.sub(rf"\${re.escape(name)}\b", lambda _, term=term: str(term), text)
    return text
