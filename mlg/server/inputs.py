"""Reading what a request sends: parameters and text, strictly as UTF-8.

werkzeug's form parser replaces undecodable bytes; the SPARQL protocol wants a non-UTF-8
query refused instead, so parameters are parsed here from the raw bytes.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from werkzeug.http import parse_options_header

from mlg.errors import UsageError

Params = list[tuple[str, str]]


def params(raw: bytes, where: str) -> Params:
    """URL-encoded parameters (``a=1&b&a=2``), percent-decoded once, as UTF-8.

    >>> params(b"query=ASK%20%7B%7D&default", "the URL")
    [('query', 'ASK {}'), ('default', '')]
    """
    try:
        return parse_qsl(raw.decode("utf-8"), keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise UsageError(f"{where} is not UTF-8") from None


def values(fields: Params, name: str) -> list[str]:
    return [value for key, value in fields if key == name]


def media_type(header: str | None) -> tuple[str, dict[str, str]]:
    """The lower-cased media type of a Content-Type header and its parameters."""
    mimetype, options = parse_options_header(header or "")
    return mimetype.lower(), {k.lower(): v for k, v in options.items()}


def check_charset(options: dict[str, str], what: str) -> None:
    charset = options.get("charset")
    if charset is not None and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise UsageError(f"{what} must be UTF-8, not {charset}")


def text(data: bytes, options: dict[str, str], what: str) -> str:
    """A body as text: UTF-8 only, whatever charset it claims."""
    check_charset(options, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UsageError(f"{what} is not UTF-8 (byte {error.start})") from None
