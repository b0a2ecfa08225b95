"""One exception hierarchy: each error knows its CLI exit code and its HTTP status.

The CLI prints ``str(error)`` on one line and exits with ``exit_code``; the server
(later) answers ``http_status`` with the same message. Exit codes: 0 ok,
1 validation failed, 2 bad usage or unreadable input, 3 the store failed.
"""

from __future__ import annotations


class MlgError(Exception):
    """Base of every error mlg reports to a person."""

    exit_code = 2
    http_status = 400

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
