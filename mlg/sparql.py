"""Cheap looks at SPARQL text before it runs, without a full parse.

A full rdflib parse costs milliseconds; these read only the prologue and the first
keyword, which is all a caller needs to tell a query from an update.
"""

from __future__ import annotations

import re

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
