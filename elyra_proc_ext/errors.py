"""Every error a user can cause or fix, in one hierarchy; each class carries the HTTP status the REST API answers.

Handlers map an exception to its answer by class (`ElyraProcError.status`), never by name. A processor's own
errors, custom processors' too, get a proper status by subclassing one of these; anything else is a 500 whose
details stay in the server log. Errors cross process boundaries (worker processes), so each pickles with its
status, and messages are built from configuration values (endpoints), so credentials in URLs are masked here.
"""

from __future__ import annotations

from .redaction import redact_credentials


class ElyraProcError(Exception):
    """Base class: `str(error)` is the message the user sees; it says what to fix and never holds a secret."""

    status: int = 500

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(redact_credentials(message))
        if status is not None:
            self.status = status


class BadRequestError(ElyraProcError):
    """The request itself is wrong (a field's type, a value out of range, an impossible target)."""

    status = 400


class NotFoundError(ElyraProcError):
    status = 404


class ConflictError(ElyraProcError):
    """The request clashes with what exists (a file or configuration already there, a runtime gone)."""

    status = 409


class CheckTimeoutError(ElyraProcError):
    """A pipeline's checks ran past their time limit (a dependency pattern over a huge tree, a giant pipeline)."""

    status = 422


class TooManyRequestsError(ElyraProcError):
    """The caller has too much in flight; the answer's Retry-After header says when to try again."""

    status = 429
    retry_after_seconds = 1


class UnsupportedError(BadRequestError):
    """The runtime cannot do this (cancel a finished remote run, export, test a connection)."""


class InsufficientStorageError(ElyraProcError):
    """The disk holding run records or artifacts is full."""

    status = 507


class UpstreamError(ElyraProcError):
    """A runtime or object storage failed or refused; `status` 504 when it did not answer in time."""

    status = 502


class RuntimeConfigError(BadRequestError):
    """A runtime configuration that is missing (404), already there (409), unreadable or invalid (400)."""


class CatalogError(BadRequestError):
    """A component catalog that is missing (404), already there (409), unreadable or invalid (400)."""


class CatalogReadError(BadRequestError):
    """One entry of a component catalog (a file, a URL) could not be read; the message names it and says why."""


class ComponentSpecError(BadRequestError):
    """A component definition that cannot be used; the message names its source (file or URL) and the field."""


class UnknownRunError(NotFoundError):
    """No run has this id, or the run has no such artifact."""


class UsageError(BadRequestError):
    """A command-line argument that names nothing usable, or several things (a run id prefix): `elyra-proc` exits
    with 2, as for its other usage errors."""


class StorageError(UpstreamError):
    """Object storage failed, refused or is misconfigured; the message names the setting to fix."""


class KfpAuthError(UpstreamError):
    """Signing in to Kubeflow Pipelines failed; the message names the endpoint, the cause and the fix."""


class KfpError(UpstreamError):
    """A failed Kubeflow Pipelines call; `conflict` when KFP said the object already exists."""

    def __init__(self, message: str, status: int | None = None, conflict: bool = False) -> None:
        super().__init__(message, status)
        self.conflict = conflict


__all__ = ["BadRequestError", "CatalogError", "CatalogReadError", "CheckTimeoutError", "ComponentSpecError",
           "ConflictError", "ElyraProcError", "InsufficientStorageError", "KfpAuthError", "KfpError", "NotFoundError",
           "RuntimeConfigError", "StorageError", "TooManyRequestsError", "UnknownRunError", "UnsupportedError",
           "UpstreamError", "UsageError"]
