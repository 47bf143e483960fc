"""Result formats the SPARQL endpoint offers, and content negotiation over them.

Three families, by query form: *tabular* (SELECT), *boolean* (ASK) and *graph*
(CONSTRUCT, DESCRIBE). The first format of a family is its default. A format is chosen by
the ``format`` parameter when given (a short name or a media type), else by the ``Accept``
header with q-values and specificity (RFC 9110 §12.5.1): for each offered media type the
most specific matching range gives its q; the highest q wins; at equal q a canonical media
type beats an alias, then the earlier offer wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pyoxigraph import QueryResultsFormat, RdfFormat

from api.errors import BadRequest


@dataclass(frozen=True)
class ResultFormat:
    name: str
    #: media types clients may ask for; the first is what we answer with by default
    media_types: tuple[str, ...]
    serializer: QueryResultsFormat | RdfFormat
    #: appended to a text/* Content-Type (Turtle, CSV … are UTF-8 by definition)
    charset: bool = False

    @property
    def media_type(self) -> str:
        return self.media_types[0]

    def content_type(self, media_type: str | None = None) -> str:
        mt = media_type or self.media_type
        return f"{mt}; charset=utf-8" if self.charset or mt.startswith("text/") else mt


JSON = ResultFormat(
    "json", ("application/sparql-results+json", "application/json"), QueryResultsFormat.JSON
)
XML = ResultFormat(
    "xml",
    ("application/sparql-results+xml", "application/xml", "text/xml"),
    QueryResultsFormat.XML,
)
CSV = ResultFormat("csv", ("text/csv",), QueryResultsFormat.CSV)
TSV = ResultFormat("tsv", ("text/tab-separated-values",), QueryResultsFormat.TSV)
TURTLE = ResultFormat("turtle", ("text/turtle", "application/x-turtle"), RdfFormat.TURTLE)
NTRIPLES = ResultFormat("ntriples", ("application/n-triples", "text/plain"), RdfFormat.N_TRIPLES)
JSONLD = ResultFormat("jsonld", ("application/ld+json", "application/json"), RdfFormat.JSON_LD)
RDFXML = ResultFormat("rdfxml", ("application/rdf+xml", "application/xml"), RdfFormat.RDF_XML)

TABULAR: tuple[ResultFormat, ...] = (JSON, XML, CSV, TSV)
BOOLEAN: tuple[ResultFormat, ...] = (JSON, XML)
GRAPH: tuple[ResultFormat, ...] = (TURTLE, NTRIPLES, JSONLD, RDFXML)

#: short names accepted by ``format=``
FORMAT_NAMES: dict[str, tuple[ResultFormat, ...]] = {
    "json": (JSON, JSONLD),
    "srj": (JSON,),
    "xml": (XML, RDFXML),
    "srx": (XML,),
    "csv": (CSV,),
    "tsv": (TSV,),
    "turtle": (TURTLE,),
    "ttl": (TURTLE,),
    "ntriples": (NTRIPLES,),
    "nt": (NTRIPLES,),
    "n-triples": (NTRIPLES,),
    "jsonld": (JSONLD,),
    "json-ld": (JSONLD,),
    "rdfxml": (RDFXML,),
    "rdf": (RDFXML,),
}


@dataclass(frozen=True)
class Choice:
    fmt: ResultFormat
    media_type: str

    @property
    def content_type(self) -> str:
        return self.fmt.content_type(self.media_type)


@dataclass(frozen=True)
class _Range:
    type: str
    subtype: str
    q: float

    def specificity(self, media_type: str) -> int:
        """-1 if the range does not match ``media_type``, else 0 (*/*), 1 (type/*) or 2."""
        t, _, s = media_type.partition("/")
        if self.type == "*":
            return 0
        if self.type != t:
            return -1
        if self.subtype == "*":
            return 1
        return 2 if self.subtype == s else -1


def parse_accept(header: str) -> list[_Range]:
    ranges = []
    for part in header.split(","):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        if media == "*":
            media = "*/*"
        t, sep, s = media.partition("/")
        if not sep or not t or not s:
            continue  # not a media range; ignored as most servers do
        q = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append(_Range(t, s, q))
    return ranges


def _quality(ranges: list[_Range], media_type: str) -> float:
    best_spec, best_q = -1, 0.0
    for r in ranges:
        spec = r.specificity(media_type)
        if spec > best_spec:
            best_spec, best_q = spec, r.q
        elif spec == best_spec and spec >= 0:
            best_q = max(best_q, r.q)
    return best_q if best_spec >= 0 else 0.0


def negotiate(offers: Sequence[ResultFormat], accept: str | None) -> Choice | None:
    """The best offer for an Accept header, or None when nothing offered is acceptable."""
    if not accept or not accept.strip():
        return Choice(offers[0], offers[0].media_type)
    ranges = parse_accept(accept)
    if not ranges:
        return Choice(offers[0], offers[0].media_type)
    best: Choice | None = None
    best_q = 0.0
    # canonical media types first, then aliases: at equal q, text/* gives text/csv, not the
    # text/xml alias of SPARQL XML
    candidates = [(f, f.media_types[0]) for f in offers]
    candidates += [(f, mt) for f in offers for mt in f.media_types[1:]]
    for fmt, mt in candidates:
        q = _quality(ranges, mt)
        if q > best_q:
            best, best_q = Choice(fmt, mt), q
    return best


def from_format_param(offers: Sequence[ResultFormat], value: str) -> Choice | None:
    """The offer named by ``format=`` (short name or media type); None if not in ``offers``.

    Raises :class:`BadRequest` for a value that names no format at all.
    """
    v = value.strip().lower()
    if v in FORMAT_NAMES:
        for fmt in FORMAT_NAMES[v]:
            if fmt in offers:
                return Choice(fmt, fmt.media_type)
        return None
    media = v.split(";")[0].strip()
    known = {mt for family in (TABULAR, GRAPH) for f in family for mt in f.media_types}
    if media not in known:
        raise BadRequest(
            f"unknown format {value!r}; use one of {', '.join(FORMAT_NAMES)} or a media type"
        )
    for fmt in offers:
        if media in fmt.media_types:
            return Choice(fmt, media)
    return None


def describe(offers: Sequence[ResultFormat]) -> str:
    return ", ".join(f.media_type for f in offers)
