"""One exception hierarchy: each error knows its CLI exit code and its HTTP status.

The CLI prints ``str(error)`` on one line and exits with ``exit_code``; the server
answers ``http_status`` (and ``http_headers``, if any) with the same message. Exit
codes: 0 ok, 1 validation failed, 2 bad usage or unreadable input, 3 the store failed.
"""

from __future__ import annotations

from typing import ClassVar


class MlgError(Exception):
    """Base of every error mlg reports to a person."""

    exit_code = 2
    http_status = 400
    http_headers: ClassVar[dict[str, str]] = {}

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class UsageError(MlgError):
    """The command or request was asked wrongly."""


class InputError(MlgError):
    """An input could not be read: missing, malformed, too large or hostile."""


class UnknownFormatError(InputError):
    """No loader recognises the input."""

    http_status = 415


class MissingDependencyError(MlgError):
    """An optional dependency (a format's library) is not installed."""

    http_status = 501


class QueryError(MlgError):
    """A SPARQL query or update does not parse or cannot be evaluated."""


class NotFoundError(MlgError):
    """An asset or graph that was asked for is not in the store."""

    http_status = 404


class ValidationFailed(MlgError):
    """A submission broke a SHACL constraint of severity sh:Violation."""

    exit_code = 1
    http_status = 422

    def __init__(self, message: str, *, where: str | None = None, report: object = None) -> None:
        super().__init__(message, where=where)
        self.report = report


class StoreError(MlgError):
    """The store could not be opened, read or written."""

    exit_code = 3
    http_status = 500


class StoreLockedError(StoreError):
    """Another process holds the on-disk store."""

    http_status = 503


class WriterUnavailable(StoreError):
    """The writer process of ``mlg serve`` does not answer (it is stopping, or died)."""

    http_status = 503


class QueryTimeout(MlgError):
    """A query ran past MLG_QUERY_TIMEOUT, or no query worker came free in that time."""

    exit_code = 3
    http_status = 503


class AuthenticationRequired(MlgError):
    """A request that needs a bearer token came without a valid one (HTTP only)."""

    http_status = 401
    http_headers: ClassVar[dict[str, str]] = {"WWW-Authenticate": 'Bearer realm="mlg"'}


class Forbidden(MlgError):
    """The server will not do this for anyone: a write to a read-only server, to a reserved graph."""

    http_status = 403


class NotAcceptable(MlgError):
    """No representation the client accepts can be produced (HTTP only)."""

    http_status = 406


class PayloadTooLarge(MlgError):
    """A request body over the configured limit (HTTP only)."""

    http_status = 413


class UnsupportedMediaType(MlgError):
    """A request body of a type the endpoint does not read (HTTP only)."""

    http_status = 415
