"""The endpoint's side of :mod:`kg.sparql_guard`: its refusals as API errors.

What a request may do is decided from the parsed operation (``SERVICE`` and ``LOAD``
refused, updates only where enabled, depth and size limits): see :mod:`kg.sparql_guard`.
For queries against the embedded store the check runs in the query's own child process
(:mod:`api._execute`), where a slow or deep parse can be stopped like a slow query; the API
process only runs :func:`precheck`, a linear scan of the raw text.
"""

from __future__ import annotations

from api.errors import ApiError, MalformedQuery, QueryTooComplex, ServiceNotAllowed, UpdateForbidden
from kg import sparql_guard
from kg.settings import Settings
from kg.sparql_guard import Checked, Limits

sparql_guard.warm_up()  # once here, not in every query's process


def as_api_error(exc: sparql_guard.SparqlRefused) -> ApiError:
    """The API error of a refusal (400 malformed_query / query_too_complex /
    service_not_allowed, 403 update_forbidden)."""
    if isinstance(exc, sparql_guard.QueryTooComplex):
        return QueryTooComplex(str(exc))
    if isinstance(exc, sparql_guard.ForbiddenOperation):
        return ServiceNotAllowed(str(exc))
    if isinstance(exc, sparql_guard.UpdateNotAllowed):
        return UpdateForbidden(str(exc))
    return MalformedQuery(str(exc))


def limits(settings: Settings) -> Limits:
    return Limits.from_settings(settings)


def precheck(text: str, settings: Settings) -> None:
    """The cheap raw-text size and nesting limits, in the API process (400 when past)."""
    try:
        sparql_guard.precheck(text, limits(settings))
    except sparql_guard.SparqlRefused as exc:
        raise as_api_error(exc) from None


def check(
    text: str,
    guard_limits: Limits,
    *,
    update: bool = False,
    allow_update: bool = False,
    prefixes: dict[str, str] | None = None,
) -> Checked:
    """:func:`kg.sparql_guard.check` with its refusals raised as API errors."""
    try:
        return sparql_guard.check(
            text, update=update, allow_update=allow_update, limits=guard_limits, prefixes=prefixes
        )
    except sparql_guard.SparqlRefused as exc:
        raise as_api_error(exc) from None
    except UnicodeError as exc:  # a lone surrogate the store could not take
        raise MalformedQuery(f"SPARQL 语法错误 / malformed query: {exc}") from None
