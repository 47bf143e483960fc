"""Turn an HTTP request into one SPARQL operation, as the SPARQL 1.1 Protocol describes it.

Pure functions over the raw request parts (method, raw query string, Content-Type, body
bytes) so the rules can be tested without a server. The raw query string and a
form-encoded body are each split and percent-decoded exactly once, then decoded as UTF-8
(an invalid byte sequence is a 400, not a silent replacement character).

Accepted shapes (§2.1 and §2.2 of the protocol):

* ``GET ?query=…`` — query via GET;
* ``POST`` ``application/x-www-form-urlencoded`` with ``query=…`` or ``update=…``;
* ``POST`` ``application/sparql-query`` / ``application/sparql-update``, the body being
  the operation, UTF-8.

Dataset parameters (``default-graph-uri``, ``named-graph-uri``) may be in the URL or, for a
form POST, in the body too; they are collected from both.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote_to_bytes

from pyoxigraph import NamedNode

from api.errors import BadRequest, UnsupportedMediaType

FORM = "application/x-www-form-urlencoded"
SPARQL_QUERY = "application/sparql-query"
SPARQL_UPDATE = "application/sparql-update"
POST_TYPES = (FORM, SPARQL_QUERY, SPARQL_UPDATE)

Params = dict[str, list[str]]


@dataclass(frozen=True)
class Operation:
    kind: Literal["query", "update"]
    text: str
    #: protocol dataset (``default-graph-uri`` / ``named-graph-uri``), IRIs as strings
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    #: ``format=`` override of the Accept header, if given
    format: str | None = None
    #: every parameter as received, for diagnostics
    params: Params = field(default_factory=dict, compare=False, repr=False)

    @property
    def has_dataset(self) -> bool:
        return bool(self.default_graphs or self.named_graphs)


def parse_params(raw: bytes) -> Params:
    """Split ``a=1&b=2`` once: '+' is a space, %XX a byte; the bytes must be UTF-8."""
    params: Params = defaultdict(list)
    for pair in raw.split(b"&"):
        if not pair:
            continue
        name, _, value = pair.partition(b"=")
        try:
            key = unquote_to_bytes(name.replace(b"+", b" ")).decode("utf-8")
            val = unquote_to_bytes(value.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadRequest(
                f"parameters must be UTF-8 (percent-encoded); bad bytes in {name[:40]!r}: "
                f"{exc.reason}"
            ) from exc
        params[key].append(val)
    return dict(params)


def parse_content_type(value: str | None) -> tuple[str | None, dict[str, str]]:
    if not value or not value.strip():
        return None, {}
    media, *rest = value.split(";")
    options = {}
    for item in rest:
        k, _, v = item.partition("=")
        options[k.strip().lower()] = v.strip().strip('"')
    return media.strip().lower(), options


def _check_charset(media: str, options: dict[str, str]) -> None:
    charset = options.get("charset")
    if charset is not None and charset.lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise UnsupportedMediaType(
            f"{media} must be UTF-8; charset={charset} is not supported "
            "(SPARQL 1.1 Protocol §2.1.3)"
        )


def _decode_body(body: bytes) -> str:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(
            f"request body is not valid UTF-8: {exc.reason} at byte {exc.start}"
        ) from exc
    return text.removeprefix("\ufeff")


def _merge(*sources: Params) -> Params:
    merged: Params = defaultdict(list)
    for source in sources:
        for k, vs in source.items():
            merged[k].extend(vs)
    return dict(merged)


def _single(params: Params, name: str) -> str | None:
    values = params.get(name, [])
    if len(values) > 1:
        raise BadRequest(f"{len(values)} '{name}' parameters given; send exactly one")
    return values[0] if values else None


def _graphs(params: Params, name: str) -> tuple[str, ...]:
    iris = []
    for value in params.get(name, []):
        try:
            NamedNode(value)
        except ValueError as exc:
            raise BadRequest(f"{name} {value!r} is not an absolute IRI: {exc}") from exc
        iris.append(value)
    return tuple(iris)


def parse_request(
    method: str, query_string: bytes, content_type: str | None, body: bytes
) -> Operation:
    """The operation a protocol request asks for; raises BadRequest / UnsupportedMediaType."""
    url_params = parse_params(query_string)
    method = method.upper()
    if method == "GET":
        if "update" in url_params:
            raise BadRequest("SPARQL Update must be sent with POST, not GET (Protocol §2.2)")
        params = url_params
        query = _single(params, "query")
        update = None
    elif method == "POST":
        params, query, update = _post_operation(url_params, content_type, body)
    else:  # pragma: no cover - the router only accepts GET and POST
        raise BadRequest(f"method {method} is not part of the SPARQL protocol")
    return _operation(params, query, update)


def _post_operation(
    url_params: Params, content_type: str | None, body: bytes
) -> tuple[Params, str | None, str | None]:
    """A POST's parameters, query and update: from a form, or the body as the operation
    (Protocol §2.1.2, §2.1.3, §2.2.1, §2.2.2)."""
    media, options = parse_content_type(content_type)
    if media is None:
        raise UnsupportedMediaType("POST needs a Content-Type: one of " + ", ".join(POST_TYPES))
    if media == FORM:
        _check_charset(media, options)
        params = _merge(url_params, parse_params(body))
        return params, _single(params, "query"), _single(params, "update")
    if media in (SPARQL_QUERY, SPARQL_UPDATE):
        _check_charset(media, options)
        for name in ("query", "update"):
            if name in url_params:
                raise BadRequest(
                    f"'{name}' given in the URL while the body is the operation ({media})"
                )
        text = _decode_body(body)
        query, update = (text, None) if media == SPARQL_QUERY else (None, text)
        return url_params, query, update
    raise UnsupportedMediaType(
        f"unsupported Content-Type {media}; use one of " + ", ".join(POST_TYPES)
    )


def _operation(params: Params, query: str | None, update: str | None) -> Operation:
    """The one operation the request gives, checked: an update without a dataset of its
    own, a query with its default and named graphs."""
    if query is not None and update is not None:
        raise BadRequest("both 'query' and 'update' given; send one operation per request")
    fmt = params.get("format", [None])[-1] or None
    if update is not None:
        for name in ("using-graph-uri", "using-named-graph-uri"):
            if name in params:
                raise BadRequest(
                    f"'{name}' is not supported: the store cannot override an update's dataset; "
                    "use USING / WITH in the update instead"
                )
        if not update.strip():
            raise BadRequest("empty 'update'")
        return Operation("update", update, format=fmt, params=params)
    if query is None:
        raise BadRequest(
            "missing 'query': send ?query=… (GET), a form field query=… or an "
            "application/sparql-query body (POST)"
        )
    if not query.strip():
        raise BadRequest("empty 'query'")
    return Operation(
        "query",
        query,
        default_graphs=_graphs(params, "default-graph-uri"),
        named_graphs=_graphs(params, "named-graph-uri"),
        format=fmt,
        params=params,
    )
