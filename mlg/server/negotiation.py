"""Content negotiation: one function picks what to answer from the client's Accept header.

Each representation names the media type it is sent as, the other media types that ask
for it, and the pyoxigraph format that writes it. :func:`negotiate` is used for query
results, for graphs and for the service description alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from pyoxigraph import QueryResultsFormat, RdfFormat
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from mlg.errors import NotAcceptable


@dataclass(frozen=True)
class Representation:
    content_type: str
    """The Content-Type header it is sent with."""
    format: QueryResultsFormat | RdfFormat
    aliases: tuple[str, ...] = ()
    """Other media types a client may ask for it by."""

    @property
    def media_type(self) -> str:
        return self.content_type.split(";", 1)[0]


JSON_RESULTS = Representation(
    "application/sparql-results+json", QueryResultsFormat.JSON, ("application/json",)
)
XML_RESULTS = Representation(
    "application/sparql-results+xml", QueryResultsFormat.XML, ("application/xml", "text/xml")
)
CSV_RESULTS = Representation("text/csv; charset=utf-8", QueryResultsFormat.CSV)
TSV_RESULTS = Representation("text/tab-separated-values; charset=utf-8", QueryResultsFormat.TSV)
TURTLE = Representation("text/turtle; charset=utf-8", RdfFormat.TURTLE, ("application/x-turtle",))
N_TRIPLES = Representation("application/n-triples", RdfFormat.N_TRIPLES)
JSON_LD = Representation("application/ld+json", RdfFormat.JSON_LD)
RDF_XML = Representation("application/rdf+xml", RdfFormat.RDF_XML)

SOLUTIONS = (JSON_RESULTS, XML_RESULTS, CSV_RESULTS, TSV_RESULTS)
"""For SELECT, in order of preference when the client has none."""
BOOLEAN = (JSON_RESULTS, XML_RESULTS)
"""For ASK: CSV and TSV have no boolean form."""
GRAPHS = (TURTLE, N_TRIPLES, JSON_LD, RDF_XML)
"""For CONSTRUCT, DESCRIBE, Graph Store GET and the service description."""
BY_CONTENT_TYPE = {rep.content_type: rep for rep in (*SOLUTIONS, *GRAPHS)}
"""A representation by its content type: what crosses a process boundary is the string."""


@lru_cache(maxsize=512)
def negotiate(accept: str | None, offers: tuple[Representation, ...]) -> Representation | None:
    """The offer the client prefers (q-values and wildcards honoured), or None if it takes none.

    A missing or empty Accept header takes the first offer, and so does a tie. Clients
    send the same few Accept headers again and again: the answers are kept (bounded).

    >>> negotiate("text/csv;q=0.5, application/sparql-results+xml", SOLUTIONS).media_type
    'application/sparql-results+xml'
    >>> negotiate("image/png", GRAPHS) is None
    True
    """
    if not accept or not accept.strip():
        return offers[0]
    # Parameters (text/turtle;charset=utf-8) do not change which of our formats is meant.
    parsed = MIMEAccept(
        [(value.split(";", 1)[0].strip().lower(), quality) for value, quality in parse_accept_header(accept)]
    )
    refused = {value for value, quality in parsed if quality <= 0}
    by_type: dict[str, Representation] = {}
    for media_type, offer in [(o.media_type, o) for o in offers] + [
        (a, o) for o in offers for a in o.aliases
    ]:
        if media_type not in refused:
            by_type.setdefault(media_type, offer)
    best = parsed.best_match(list(by_type))
    return by_type[best] if best else None


def choose(accept: str | None, offers: tuple[Representation, ...], what: str) -> Representation:
    """:func:`negotiate`, or a 406 naming what could have been asked for."""
    chosen = negotiate(accept, offers)
    if chosen is None:
        names = ", ".join(offer.media_type for offer in offers)
        raise NotAcceptable(f"{what} can be sent as {names}; the Accept header allows none of these")
    return chosen
