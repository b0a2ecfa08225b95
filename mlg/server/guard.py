"""A cheap look at every query and update before it runs: what it must not do, and its tokens.

pyoxigraph opens HTTP connections by itself for ``SERVICE`` and fetches anything for
``LOAD``, and its parser is recursive (about 2,500 nested brackets crash the process). A
full parse to find these would cost milliseconds a query, so a small tokenizer reads
the text once (strings, IRIs and comments skipped as the SPARQL grammar says) and:

- refuses ``LOAD``, and ``SERVICE`` to any endpoint not on the allow-list; a listed
  endpoint whose name resolves to a loopback, link-local or private address is refused
  too, unless what is listed is that address (or ``localhost``) itself;
- refuses text longer or nested deeper than the limits, and ``\\u`` escapes outside
  strings (the parser decodes them inside IRIs, where the scan could not read the host).

It errs on the side of refusing: a query it cannot read is refused, not run.

>>> policy = Policy(frozenset(), max_length=10_000, max_depth=50)
>>> [t.text for t in inspect("SELECT * { ?s ?p 'SERVICE' } # LOAD", policy)]
['SELECT', '*', '{', '?s', '?p', "'SERVICE'", '}']
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from mlg.errors import QueryError
from mlg.vocab import PREFIXES

_TOKEN = re.compile(
    r"""
      (?P<space>\s+)
    | (?P<comment>\#[^\n\r]*)
    | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
                |"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*')
    | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    | (?P<var>[?$]\w+)
    | (?P<bnode>_:[\w.\-]*)
    | (?P<pname>(?:[^\W\d_][\w.\-]*)?:(?:[\w\-.:%]|\\[^\s])*)
    | (?P<word>[^\W\d]\w*)
    | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
    | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
    | (?P<open>[{(\[])
    | (?P<close>[})\]])
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_SKIPPED = {"space", "comment"}


@dataclass(frozen=True)
class Token:
    kind: str
    """string, iri, var, bnode, pname, word, lang, number, open, close or other."""
    text: str
    start: int
    depth: int
    """How many brackets are open before it (an ``open`` token counts the ones outside it)."""

    @property
    def keyword(self) -> str:
        """The upper-cased word, or '' for anything else (``a``, ``true`` are words too)."""
        return self.text.upper() if self.kind == "word" else ""


@dataclass(frozen=True)
class Policy:
    allow: frozenset[str]
    """SERVICE endpoints that may be called, exactly as written in MLG_SERVICE_ALLOW."""
    max_length: int
    max_depth: int

    @classmethod
    def of(cls, allow: Iterable[str], max_length: int, max_depth: int) -> Policy:
        return cls(frozenset(a.strip() for a in allow if a.strip()), max_length, max_depth)


def tokenize(text: str) -> list[Token]:
    """The tokens of a query or update, without spaces and comments, with bracket depths."""
    tokens = []
    depth = 0
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind in _SKIPPED:
            continue
        if kind == "close":
            depth = max(depth - 1, 0)
        tokens.append(Token(kind, match.group(), match.start(), depth))
        if kind == "open":
            depth += 1
    return tokens


def inspect(text: str, policy: Policy) -> list[Token]:
    """The tokens of ``text``, or a :class:`QueryError` saying why it must not run."""
    if len(text) > policy.max_length:
        raise QueryError(
            f"the query is {len(text):,} characters long, over the limit of {policy.max_length:,} "
            "(MLG_MAX_QUERY_LENGTH); send data through the Graph Store endpoint /store instead"
        )
    tokens = tokenize(text)
    deepest = max((t.depth + 1 for t in tokens if t.kind == "open"), default=0)
    if deepest > policy.max_depth:
        raise QueryError(
            f"the query nests brackets {deepest} deep, over the limit of {policy.max_depth} "
            "(MLG_MAX_QUERY_DEPTH)"
        )
    prefixes: dict[str, list[str]] = {name: [iri] for name, iri in PREFIXES.items()}
    for index, token in enumerate(tokens):
        following = tokens[index + 1 : index + 3]
        if token.kind == "other" and token.text == "\\":
            raise QueryError("\\u escapes and backslashes outside strings are refused")
        keyword = token.keyword
        if keyword == "LOAD":
            raise QueryError(
                "LOAD is refused: this endpoint fetches no URLs; "
                "send the data to /store (Graph Store Protocol) instead"
            )
        if keyword == "PREFIX" and len(following) == 2 and following[0].kind == "pname":
            name = following[0].text[:-1] if following[0].text.endswith(":") else None
            if name is not None and following[1].kind == "iri":
                prefixes.setdefault(name, []).append(following[1].text[1:-1])
        elif keyword == "SERVICE":
            _check_service(tokens[index + 1 :], prefixes, policy)
    return tokens


def _check_service(rest: list[Token], prefixes: dict[str, list[str]], policy: Policy) -> None:
    if rest and rest[0].keyword == "SILENT":
        rest = rest[1:]
    target = rest[0] if rest else None
    if target is None or target.kind == "var":
        raise QueryError("SERVICE with a variable endpoint is refused: name the endpoint with an IRI")
    if target.kind == "iri":
        candidates = [target.text[1:-1]]
    elif target.kind == "pname":
        name, _, local = target.text.rstrip(".").partition(":")
        if name not in prefixes:
            raise QueryError(f"SERVICE {target.text}: unknown prefix {name}:")
        local = re.sub(r"\\(.)", r"\1", local)
        candidates = [iri + local for iri in prefixes[name]]
    else:
        raise QueryError("SERVICE must be followed by the endpoint's IRI")
    for endpoint in candidates:
        problem = endpoint_problem(endpoint, policy.allow)
        if problem:
            raise QueryError(f"SERVICE <{endpoint}> is refused: {problem}")


def endpoint_problem(endpoint: str, allow: frozenset[str]) -> str | None:
    """Why a SERVICE endpoint may not be called, or None if it may.

    >>> print(endpoint_problem("http://169.254.169.254/latest", frozenset()))
    169.254.169.254 is a link-local address (cloud metadata), and the endpoint is not on the allow-list ...
    """
    parts = urlsplit(endpoint)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return "only absolute http(s) IRIs can be endpoints"
    host = parts.hostname
    literal = _address(host)
    if endpoint not in allow:
        kind = _private_kind(literal) if literal else "loopback address" if _is_localhost(host) else None
        where = f"{host} is a {kind}, and " if kind else ""
        return f"{where}the endpoint is not on the allow-list (MLG_SERVICE_ALLOW)"
    if literal is not None or _is_localhost(host):
        return None  # the operator listed this very address
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        found = {info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}
    except (OSError, ValueError) as error:
        return f"cannot resolve {host}: {error}"
    for address in sorted(found):
        kind = _private_kind(_address(address))
        if kind:
            return (
                f"{host} resolves to {address}, a {kind}; list the address itself in "
                "MLG_SERVICE_ALLOW to allow it"
            )
    return None


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _is_localhost(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host == "localhost" or host.endswith(".localhost")


def _private_kind(address: ipaddress.IPv4Address | ipaddress.IPv6Address | None) -> str | None:
    """What makes an address one SERVICE must not reach unasked, or None for a public one."""
    if address is None:
        return None
    if address.is_loopback:
        return "loopback address"
    if address.is_link_local:
        return "link-local address (cloud metadata)"
    if address.is_unspecified or address.is_multicast or not address.is_global:
        return "private or reserved address"
    return None
