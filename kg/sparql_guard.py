"""Decide what a SPARQL operation may do from its parse, before any store sees it.

The rule of the project: what a request may do is decided from the parsed query, never
from its text. :func:`check` parses the operation with rdflib's SPARQL 1.1 grammar
(``rdflib.plugins.sparql.parser``, a real parser, independent of pyoxigraph, which exposes
no algebra) and walks the parse tree:

* ``SERVICE`` anywhere (``ServiceGraphPattern``: in a sub-query, ``OPTIONAL``, ``MINUS``,
  ``EXISTS``, an update's ``WHERE`` …) is refused: pyoxigraph would fetch its IRI over HTTP.
* ``LOAD`` is refused in an update for the same reason; an update at all only where the
  caller allows updates (the text of a ``query`` is parsed with the query grammar, which
  has no update operations).
* Anything nested deeper than ``max_depth`` (groups, sub-selects, ``EXISTS``, bracketed and
  function-call expressions, property paths, collections) or larger than ``max_size``
  nodes is refused before it is evaluated: pyoxigraph evaluates recursively and its
  process dies (a stack overflow, no exception) on about 2,000 nested groups or 10,000
  ``1+1+…`` terms.

The parse tree, not rdflib's algebra, is walked: every construct of the text is in it
under its grammar name, while the algebra is a translation with recursion of its own
(a long ``UNION`` becomes a left-deep tree) and checks that pyoxigraph does not make.

Both parsers must read the same text. The text given to the store is :attr:`Checked.text`,
the text rdflib parsed: ``\\uXXXX`` / ``\\UXXXXXXXX`` escapes expanded everywhere (SPARQL
1.1 §19.2 says so, rdflib does it, oxigraph does it only inside strings and IRIs) and line
ends made ``\\n`` (a ``\\r`` ends a comment for oxigraph, not for rdflib). Without that,
``"a\\u0022, " . SERVICE <…> {…} #"`` is two string literals for rdflib and a ``SERVICE``
for oxigraph.

Before parsing, :func:`precheck` counts bracket nesting and tokens in the raw text (strings
and comments included, so it errs towards refusing) and refuses a text past twice the
limits: rdflib's parser is recursive and slow (about a second per thousand ``1+`` terms),
so a huge or deep text is turned away before it is parsed. That is a size limit, never a
permission: nothing is allowed because of what the text looks like.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from .errors import IkgError
from .namespaces import PREFIXES

if TYPE_CHECKING:
    from .settings import Settings

#: nesting depth of the parsed operation (groups, sub-selects, expressions, paths)
DEFAULT_MAX_DEPTH = 64
#: nodes of the parsed operation (patterns, expressions, terms)
DEFAULT_MAX_SIZE = 5_000
#: recursion allowed to rdflib's parser (Python frames); the pre-check keeps real queries
#: far below it, and past it the parse fails with RecursionError, which is refused
PARSE_RECURSION_LIMIT = 100_000
#: stack of the thread that parses (the parser recurses in Python; this is headroom)
PARSE_STACK_BYTES = 64 * 2**20

_T = TypeVar("_T")


class SparqlRefused(IkgError):
    """The operation is refused before evaluation; ``str(exc)`` says why, for a person."""


class SparqlSyntaxError(SparqlRefused):
    """The text does not parse as a SPARQL 1.1 query (or update)."""


class QueryTooComplex(SparqlRefused):
    """Nested deeper or larger than the limits."""


class ForbiddenOperation(SparqlRefused):
    """``SERVICE`` or ``LOAD``: evaluation would make this process send requests elsewhere."""

    def __init__(self, keyword: str, message: str) -> None:
        super().__init__(message)
        self.keyword = keyword


class UpdateNotAllowed(SparqlRefused):
    """An update where only queries are allowed."""


@dataclass(frozen=True)
class Limits:
    max_depth: int = DEFAULT_MAX_DEPTH
    max_size: int = DEFAULT_MAX_SIZE

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(max_depth=settings.sparql_max_depth, max_size=settings.sparql_max_size)

    @property
    def text_depth(self) -> int:
        """Bracket nesting refused in the raw text, before parsing."""
        return 2 * self.max_depth

    @property
    def text_tokens(self) -> int:
        """Tokens refused in the raw text, before parsing."""
        return 2 * self.max_size


@dataclass(frozen=True)
class Checked:
    """An operation that passed :func:`check`."""

    #: the text to give the store: the text that was parsed (escapes expanded)
    text: str
    kind: Literal["query", "update"]
    #: SELECT, ASK, CONSTRUCT, DESCRIBE; None for an update
    form: str | None
    #: the query names its own dataset (FROM / FROM NAMED)
    has_dataset: bool
    #: IRIs (or prefixed names as written, when the prefix is unknown) of called functions
    functions: frozenset[str]
    depth: int
    size: int

    def calls(self, local_name: str) -> bool:
        """Whether some function whose IRI ends with ``local_name`` is called."""
        return any(f.endswith(local_name) for f in self.functions)


# --- the raw text: canonical form and pre-check -------------------------------------------------

_UNICODE_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
#: one token, roughly: a comment (skipped), a string, an IRI, a name or number, or one other
#: character. Only a size and nesting estimate: nothing is allowed because of it
_TOKEN = re.compile(
    r"#[^\n\r]*"
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|<[^<>\"{}|^`\\\s]*>"
    r"|\"(?:[^\"\\\n\r]|\\.)*\""
    r"|'(?:[^'\\\n\r]|\\.)*'"
    r"|[\w.:?$@%-]+|\S",
    re.S,
)
_BRACKET = re.compile(r"[{}()\[\]]")
_OPENERS = "{(["
_CLOSERS = "})]"


def canonical_text(text: str) -> str:
    """The text both parsers read: escapes expanded until none is left, line ends ``\\n``.

    Expanding until no escape is left (``\\u005Cu0041`` gives ``A``, not ``\\u0041``) leaves
    oxigraph no escape to read differently from rdflib.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for _ in range(8):
        expanded = _UNICODE_ESCAPE.sub(_expand, text)
        if expanded == text:
            break
        text = expanded.replace("\r\n", "\n").replace("\r", "\n")
    else:
        raise SparqlSyntaxError("SPARQL 语法错误 / malformed SPARQL: \\u escapes nested too deep")
    return text


def _expand(m: re.Match[str]) -> str:
    code = int(m.group(1) or m.group(2), 16)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise SparqlSyntaxError(
            f"SPARQL 语法错误 / malformed SPARQL: {m.group(0)} is not a Unicode character"
        )
    return chr(code)


def precheck(text: str, limits: Limits) -> None:
    """Refuse a raw text whose bracket nesting or token count is past twice the limits.

    Nesting is counted twice, over every bracket character and over the bracket tokens
    (outside strings, IRIs and comments), and the deeper count is used: a bracket inside a
    string cannot hide a real one from both.
    """
    deepest = _deepest((m.group() for m in _BRACKET.finditer(text)), limits.text_depth)
    if deepest > limits.text_depth:
        raise QueryTooComplex(_too_deep(f"brackets nested over {limits.text_depth} deep", limits))
    tokens: list[str] = []
    for m in _TOKEN.finditer(text):
        token = m.group()
        if token[0] == "#":
            continue
        if len(tokens) >= limits.text_tokens:
            raise QueryTooComplex(_too_big(f"more than {limits.text_tokens} tokens", limits))
        tokens.append(token)
    deepest = _deepest((t for t in tokens if len(t) == 1), limits.text_depth)
    if deepest > limits.text_depth:
        raise QueryTooComplex(_too_deep(f"brackets nested over {limits.text_depth} deep", limits))


def _deepest(chars: Iterable[str], stop: int) -> int:
    """The deepest bracket nesting, or the first depth past ``stop``."""
    depth = deepest = 0
    for c in chars:
        if c in _OPENERS:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop:
                    break
        elif c in _CLOSERS and depth:
            depth -= 1
    return deepest


def _too_deep(what: str, limits: Limits) -> str:
    return (
        f"查询嵌套过深 / query nested too deep ({what}; the limit is {limits.max_depth} levels, "
        "IKG_SPARQL_MAX_DEPTH): flatten it"
    )


def _too_big(what: str, limits: Limits) -> str:
    return (
        f"查询过大 / query too large ({what}; the limit is {limits.max_size} parsed nodes, "
        "IKG_SPARQL_MAX_SIZE): split it"
    )


# --- parsing ---------------------------------------------------------------------------------------

_recursion_lock = threading.Lock()
_recursion_users = 0
_recursion_saved = 0


_local = threading.local()


def on_large_stack() -> None:
    """Declare that the calling thread has a large stack (at least :data:`PARSE_STACK_BYTES`):
    its parses run in it instead of in a thread of their own (a query's child process)."""
    _local.large_stack = True


def _in_parse_thread(fn: Callable[[], _T]) -> _T:
    """Run ``fn`` with a high recursion limit, in a thread with a large stack; re-raise."""
    global _recursion_users, _recursion_saved
    if getattr(_local, "large_stack", False):
        with _recursion_lock:
            if _recursion_users == 0:
                _recursion_saved = sys.getrecursionlimit()
                sys.setrecursionlimit(max(_recursion_saved, PARSE_RECURSION_LIMIT))
            _recursion_users += 1
        try:
            return fn()
        finally:
            with _recursion_lock:
                _recursion_users -= 1
                if _recursion_users == 0:
                    sys.setrecursionlimit(_recursion_saved)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the caller
            box["error"] = exc

    with _recursion_lock:
        if _recursion_users == 0:
            _recursion_saved = sys.getrecursionlimit()
            sys.setrecursionlimit(max(_recursion_saved, PARSE_RECURSION_LIMIT))
        _recursion_users += 1
        old_size = threading.stack_size(PARSE_STACK_BYTES)
        try:
            thread = threading.Thread(target=target, name="sparql-parse", daemon=True)
            thread.start()
        finally:
            threading.stack_size(old_size)
    try:
        thread.join()
    finally:
        with _recursion_lock:
            _recursion_users -= 1
            if _recursion_users == 0:
                sys.setrecursionlimit(_recursion_saved)
    if "error" in box:
        raise box["error"]
    return box["value"]


def _lenient_service_text(parser: Any) -> None:
    """Keep rdflib's parse of a ``SERVICE`` clause when it cannot find the clause's text.

    rdflib's parse action for ``ServiceGraphPattern`` looks the clause's text up again by
    scanning the whole query from its start, where a ``#`` inside an earlier IRI or string
    on the same line is skipped as a comment with the rest of the line: the lookup fails
    (IndexError) and so does the parse, and ``BIND(<x:a#> AS ?q) SERVICE <…> {…}`` would be
    "malformed" instead of a refused SERVICE. Then the clause is built as rdflib builds it,
    with an empty ``service_string`` (the text rdflib's own engine would send; unused here).
    """
    from rdflib.plugins.sparql.parserutils import CompValue, ParamValue

    comp = parser.ServiceGraphPattern
    if getattr(comp, "_ikg_lenient", False):
        return
    original = comp.postParse

    def post_parse(instring: str, loc: int, tokens: Any) -> Any:
        try:
            return original(instring, loc, tokens)
        except IndexError:
            res = CompValue(comp.name)
            res["service_string"] = ""
            for t in tokens:
                if isinstance(t, ParamValue):
                    if t.isList:
                        res.setdefault(t.name, []).append(t.tokenList)
                    else:
                        res[t.name] = t.tokenList
            return res

    comp.postParse = post_parse
    comp._ikg_lenient = True


def _parse(text: str, kind: str) -> Any:
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql import parser

    _lenient_service_text(parser)
    grammar = parser.UpdateUnit if kind == "update" else parser.QueryUnit
    label = "SPARQL Update" if kind == "update" else "SPARQL"
    try:
        return _in_parse_thread(lambda: grammar.parse_string(text, parse_all=True))
    except RecursionError:
        raise QueryTooComplex(
            f"查询嵌套过深 / {label} nested too deep to parse: flatten it"
        ) from None
    except ParseBaseException as exc:
        raise SparqlSyntaxError(
            f"{label} 语法错误 / malformed {label}: error at {exc.lineno}:{exc.col}: "
            f"{_expected(exc)}"
        ) from None
    except (ValueError, TypeError) as exc:  # rdflib's parse actions (a bad literal …)
        raise SparqlSyntaxError(f"{label} 语法错误 / malformed {label}: {exc}") from None


def _expected(exc: Any) -> str:
    msg = str(getattr(exc, "msg", "") or exc)
    found = exc.line[exc.col - 1 : exc.col + 19] if getattr(exc, "line", None) else ""
    return f"{msg}; found {found!r}" if found else msg


def parse_tree(text: str, *, update: bool = False) -> Any:
    """rdflib's parse tree of an (already canonical) text; raises :class:`SparqlRefused`."""
    return _parse(text, "update" if update else "query")


# --- walking the parse tree ------------------------------------------------------------------------

#: parse-tree nodes that open a nesting level (each pair of brackets in the text is one)
_NESTING = frozenset(
    {
        # nested ( … ) collections and [ … ] blank nodes are flattened into triples by rdflib:
        # the pre-check's bracket count bounds them
        "GroupGraphPatternSub",  # { … } of a query pattern
        "SubSelect",
        "ConditionalOrExpression",  # every expression: ( … ), function arguments, FILTER
        "PathAlternative",  # every property path and ( … ) inside one
        "QuadsNotTriples",  # GRAPH <g> { … } in update data and templates
        "Quads",
    }
)
_QUERY_FORMS = {
    "SelectQuery": "SELECT",
    "AskQuery": "ASK",
    "ConstructQuery": "CONSTRUCT",
    "DescribeQuery": "DESCRIBE",
}
#: data blocks that pyoxigraph keeps as flat lists (no recursion): their rows are not counted
#: in the size (the raw text's token count still bounds them)
_FLAT_DATA = frozenset({"InlineData", "ValuesClause", "InsertData", "DeleteData"})
_UPDATE_OPERATIONS = frozenset(
    {
        "Load",
        "Clear",
        "Drop",
        "Create",
        "Add",
        "Move",
        "Copy",
        "InsertData",
        "DeleteData",
        "DeleteWhere",
        "Modify",
    }
)


def _children(node: Any) -> list[Any]:
    from pyparsing import ParseResults
    from rdflib.plugins.sparql.parserutils import CompValue

    if isinstance(node, CompValue):
        return list(node.values())
    if isinstance(node, ParseResults):
        return list(node)
    if isinstance(node, (list, tuple)):
        return list(node)
    if isinstance(node, dict):
        return list(node.values())
    return []


def _field(node: Any, key: str) -> Any:
    """A field of a parse-tree node, None if absent (``CompValue.get`` returns the key)."""
    return dict.get(node, key)


def _node_name(node: Any) -> str | None:
    from rdflib.plugins.sparql.parserutils import CompValue

    return node.name if isinstance(node, CompValue) else None


@dataclass
class _Walk:
    depth: int = 0
    size: int = 0
    form: str | None = None
    has_dataset: bool = False
    forbidden: str | None = None
    updates: int = 0


def _walk(tree: Any, limits: Limits) -> tuple[_Walk, list[Any]]:
    """Depth, size and what the tree contains; iterative, stops at the first limit passed."""
    found = _Walk()
    functions: list[Any] = []
    stack: list[tuple[Any, int, bool]] = [(tree, 0, False)]
    while stack:
        node, depth, flat = stack.pop()
        name = _node_name(node)
        flat = flat or name in _FLAT_DATA
        found.size += 0 if flat else 1
        if found.size > limits.max_size:
            raise QueryTooComplex(_too_big(f"more than {limits.max_size} nodes", limits))
        if name is not None:
            if name in _NESTING:
                depth += 1
                if depth > limits.max_depth:
                    raise QueryTooComplex(_too_deep(f"more than {limits.max_depth} levels", limits))
                found.depth = max(found.depth, depth)
            if name == "ServiceGraphPattern":
                found.forbidden = found.forbidden or "SERVICE"
            elif name == "Load":
                found.forbidden = found.forbidden or "LOAD"
            if name in _UPDATE_OPERATIONS:
                found.updates += 1
            elif name in _QUERY_FORMS and found.form is None:
                found.form = _QUERY_FORMS[name]
            elif name == "DatasetClause" or name == "UsingClause":
                found.has_dataset = True
            elif name == "Function":
                functions.append(_field(node, "iri"))
        for child in _children(node):
            stack.append((child, depth, flat))
    return found, functions


def _prefixes(tree: Any) -> dict[str, str]:
    """The PREFIX declarations of the prologue, prefix → namespace."""
    found: dict[str, str] = {}
    stack = [tree]
    while stack:
        node = stack.pop()
        if _node_name(node) == "PrefixDecl":
            found[str(_field(node, "prefix") or "")] = str(_field(node, "iri"))
            continue
        if _node_name(node) in ("SelectQuery", "AskQuery", "ConstructQuery", "DescribeQuery"):
            continue  # the prologue comes first; nothing to find inside the query itself
        stack.extend(_children(node))
    return found


def _function_iri(iri: Any, prefixes: dict[str, str], defaults: dict[str, str]) -> str:
    if _node_name(iri) == "pname":
        prefix = str(_field(iri, "prefix") or "")
        local = str(_field(iri, "localname") or "")
        ns = prefixes.get(prefix, defaults.get(prefix))
        return f"{ns}{local}" if ns is not None else f"{prefix}:{local}"
    return str(iri)


# --- the check --------------------------------------------------------------------------------------


def check(
    text: str,
    *,
    update: bool = False,
    allow_update: bool = False,
    limits: Limits | None = None,
    prefixes: dict[str, str] | None = None,
) -> Checked:
    """Parse and check one operation; raise :class:`SparqlRefused` (a subclass) if refused.

    ``update``: the text is an update (parsed with the update grammar); refused unless
    ``allow_update``. ``prefixes``: the prefixes the store predeclares, to name the functions
    a query calls (default: the project's, :data:`kg.namespaces.PREFIXES`). The returned
    :attr:`Checked.text` is what the store must run.
    """
    limits = limits or Limits()
    if prefixes is None:
        prefixes = {p: str(ns) for p, ns in PREFIXES.items()}
    if update and not allow_update:
        raise UpdateNotAllowed("SPARQL Update 已禁用 / SPARQL Update is not allowed here")
    precheck(text, limits)
    canonical = canonical_text(text)
    tree = parse_tree(canonical, update=update)
    found, calls = _walk(tree, limits)
    if found.forbidden == "SERVICE":
        raise ForbiddenOperation(
            "SERVICE",
            "不允许 SERVICE 联邦查询 / queries with SERVICE are refused: evaluating them would "
            "send requests to other hosts",
        )
    if found.forbidden == "LOAD":
        raise ForbiddenOperation(
            "LOAD",
            "不允许 LOAD / updates with LOAD are refused: evaluating them would send requests "
            "to other hosts",
        )
    declared = _prefixes(tree) if calls else {}
    functions = frozenset(_function_iri(c, declared, prefixes) for c in calls)
    return Checked(
        text=canonical,
        kind="update" if update else "query",
        form=None if update else found.form,
        has_dataset=found.has_dataset,
        functions=functions,
        depth=found.depth,
        size=found.size,
    )


def _reset_after_fork() -> None:
    """A child forked while another thread parsed must not inherit the held lock."""
    global _recursion_lock, _recursion_users
    _recursion_lock = threading.Lock()
    _recursion_users = 0


os.register_at_fork(after_in_child=_reset_after_fork)


#: queries that touch most of the grammar (prefixed names, paths, strings of every kind,
#: numbers, aggregates, sub-queries, every query form, updates)
_WARM_UP = (
    (
        "PREFIX ex: <http://example.org/> SELECT DISTINCT ?s (COUNT(*) AS ?n) "
        "FROM <urn:g> FROM NAMED <urn:h> WHERE { ?s a ex:C ; ex:p/ex:q* ?o , 'x' . "
        '?s ^ex:r|!ex:t _:b . [ ex:p ( 1 2.5 -3e2 ) ] ex:p """y"""@en . '
        "OPTIONAL { ?s ex:p '''z'''^^ex:T } MINUS { ?s ex:p true } "
        "{ SELECT ?s WHERE { ?s ?p ?o } LIMIT 1 } UNION { GRAPH ?g { ?s ?p ?o } } "
        "FILTER(?o != 1 && (?s IN (ex:a) || !BOUND(?o)) && REGEX(STR(?o), '^a', 'i')) "
        'FILTER NOT EXISTS { ?o ?p ?s } BIND(CONCAT(STR(?o), "z") AS ?c) '
        'VALUES (?v ?w) { (1 "a") (UNDEF <urn:x>) } } GROUP BY ?s HAVING (COUNT(*) > 0) '
        "ORDER BY DESC(?n) ?s LIMIT 10 OFFSET 1",
        False,
    ),
    ("ASK { ?s ?p ?o }", False),
    ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", False),
    ("DESCRIBE <urn:a> ?s WHERE { ?s ?p ?o }", False),
    (
        "INSERT DATA { GRAPH <urn:g> { <urn:a> <urn:b> 'c' } } ; "
        "DELETE { ?s ?p ?o } INSERT { ?s ?p 1 } USING <urn:g> WHERE { ?s ?p ?o } ; "
        "DROP SILENT GRAPH <urn:g> ; CLEAR DEFAULT",
        True,
    ),
)


def warm_up() -> None:
    """Parse a few operations once, so that the grammar is prepared (pyparsing builds it on
    first use) before the API forks a process per query: each would prepare it again."""
    for text, update in _WARM_UP:
        check(text, update=update, allow_update=update)
