"""SHACL shapes compiled to SPARQL and evaluated by pyoxigraph: the native validation engine.

The shapes graph is read once and compiled into

* a SPARQL update that writes each shape's focus nodes (its targets: class, node,
  subjects-of, objects-of, SPARQL-based) to a scratch named graph of the store;
* one SELECT, a UNION (a balanced tree of them) with a group per shape and kind of check:
  the shape's focus nodes (``?this``), for a property shape each value (``?value``), and
  for each constraint component an expression true when the constraint is violated, the
  rows tagged with the check's number (``?check``);
* for every SPARQL-based constraint (``sh:sparql``), its own SELECT, run once per focus node
  of its shape with ``$this`` pre-bound, as the SHACL spec says (pyoxigraph's
  ``substitutions``).

A shape used through ``sh:node``, ``sh:or``, ``sh:xone``, ``sh:and`` or ``sh:not`` becomes
an expression too, over the node it is applied to (``EXISTS { … }`` for its property
shapes). The compiler knows a fixed set of constraint components and targets
(:data:`COMPONENTS`, :data:`TARGETS`) and refuses, when the shapes are loaded, a shapes
graph that uses any other SHACL term (:class:`UnsupportedShapes`): no constraint is ever
skipped in silence.

The results are pyshacl's (``advanced=True``, ``inference="none"``) on ontology/shapes.ttl;
tests/test_validate_engines.py compares both engines' results one by one. Known departures,
none of them reachable from the project's graphs: literal equality is RDF 1.1's (a plain
literal is an ``xsd:string``), ``sh:pattern`` is XPath's regular expressions, an ill-typed
literal is one that Oxigraph cannot cast to its datatype and fails every range check (pyshacl
compares it by rdflib's rules), and rdflib normalises some ill-typed literals before either
engine sees them (``"abc"^^xsd:boolean`` becomes ``"false"``).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD
from rdflib.term import Node

from .errors import IkgError
from .store import to_rdflib


class UnsupportedShapes(IkgError, ValueError):
    """The shapes graph uses a SHACL feature the SPARQL compiler does not implement."""


@dataclass(frozen=True)
class Violation:
    """One validation result, as pyshacl's report would give it."""

    focus: Node
    path: Node | None
    value: Node | None
    shape: Node
    component: URIRef
    severity: URIRef
    message: str

    def key(self) -> tuple[Node, Node | None, Node, URIRef, URIRef]:
        """What two engines must agree on: focus node, path, source shape, component, severity."""
        return (self.focus, self.path, self.shape, self.component, self.severity)


@dataclass(frozen=True)
class Check:
    """One shape x constraint component: the query's rows tagged with its number."""

    shape: Node
    component: URIRef
    path: URIRef | None
    severity: URIRef
    message: str


@dataclass(frozen=True)
class SparqlCheck:
    """A SPARQL-based constraint of a shape: its query, run per focus node of the shape."""

    shape: Node
    constraint: Node
    path: URIRef | None
    severity: URIRef
    message: str
    select: str
    prefixes: dict[str, str]


@dataclass
class Compiled:
    """The compiled shapes graph: run :meth:`validate` on a store holding the data."""

    checks: list[Check] = field(default_factory=list)
    #: the index of the check listing the focus nodes of each SPARQL-based constraint
    sparql: dict[int, SparqlCheck] = field(default_factory=dict)
    prefixes: dict[str, str] = field(default_factory=dict)
    #: the SPARQL update writing each shape's focus nodes
    targets: str = ""
    #: the groups of the query, each for one shape's checks at its focus or value nodes, with
    #: the number of the target (the focus nodes) it reads
    branches: list[tuple[int, str]] = field(default_factory=list)

    def validate(self, store: ox.Store) -> list[Violation]:
        """Every violation (of any severity) in the store's default graph. The focus nodes are
        written to a named graph of the store while it runs (FOCUS_GRAPH), dropped after."""
        store.update(self.targets, prefixes=self.prefixes)
        try:
            # only the groups of the shapes with focus nodes: a smaller query parses faster
            found = store.query(FOCUSED, prefixes=self.prefixes)
            targets = {int(s["s"].value.removeprefix(FOCUS_SHAPE)) for s in found}  # type: ignore[index,union-attr]
            query = _select([b for t, b in self.branches if t in targets])
            rows = [
                (int(s["check"].value), s["this"], s["value"])  # type: ignore[index,union-attr]
                for s in (store.query(query, prefixes=self.prefixes) if query else ())  # type: ignore[union-attr]
            ]
        finally:
            store.remove_graph(ox.NamedNode(FOCUS_GRAPH))
        out: dict[Violation, None] = {}  # one sh:maxCount result per focus node, in order
        for index, this, value in rows:
            if index in self.sparql:
                out.update(dict.fromkeys(_sparql_results(store, self.sparql[index], this)))
                continue
            c = self.checks[index]
            focus = to_rdflib(this)
            if c.component in NO_VALUE:
                shown = None
            else:
                shown = focus if c.path is None else to_rdflib(value)
            v = Violation(focus, c.path, shown, c.shape, c.component, c.severity, c.message)  # type: ignore[arg-type]
            out[v] = None
        return list(out)


# --------------------------------------------------------------------------- vocabulary

#: SHACL terms that carry no constraint (descriptions, messages, the parts of other terms)
STRUCTURE = {
    SH.path, SH.message, SH.severity, SH.deactivated, SH.name, SH.description, SH.order,
    SH.group, SH.defaultValue, SH.prefixes, SH.declare, SH.prefix, SH.namespace, SH.select,
    SH.flags, SH.sparql, SH.target, SH.property,
}  # fmt: skip
#: the types a shapes graph may give its nodes
TYPES = {SH.Shape, SH.NodeShape, SH.PropertyShape, SH.SPARQLConstraint, SH.SPARQLTarget}
#: a shape that is also a class targets its instances (an implicit class target)
CLASSES = {RDFS.Class, OWL.Class}
SEVERITIES = {SH.Violation, SH.Warning, SH.Info}
TARGETS = {SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target}
#: datatypes whose lexical forms Oxigraph checks by a cast (an ill-typed literal fails sh:datatype)
CASTABLE = {
    XSD.string, XSD.boolean, XSD.integer, XSD.decimal, XSD.float, XSD.double, XSD.date,
    XSD.dateTime, XSD.time, XSD.duration,
}  # fmt: skip
NODE_KINDS = {
    SH.IRI: "isIRI({v})",
    SH.BlankNode: "isBlank({v})",
    SH.Literal: "isLiteral({v})",
    SH.BlankNodeOrIRI: "(isBlank({v}) || isIRI({v}))",
    SH.BlankNodeOrLiteral: "(isBlank({v}) || isLiteral({v}))",
    SH.IRIOrLiteral: "(isIRI({v}) || isLiteral({v}))",
}


def _n3(term: Node, names: dict[str, str] | None = None) -> str:
    """The term in SPARQL, an IRI as a prefixed name where names (namespace -> prefix) allow."""
    if isinstance(term, URIRef) and names:
        for namespace, prefix in names.items():
            local = term[len(namespace) :]
            if term.startswith(namespace) and _LOCAL.fullmatch(local):
                return f"{prefix}:{local}"
    if isinstance(term, BNode):
        raise UnsupportedShapes(
            f"不支持以空白节点作为约束取值 / a blank node as a constraint's value: {term}"
        )
    return term.n3()


_LOCAL = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class Vars:
    """Fresh SPARQL variable names for the nested patterns."""

    def __init__(self) -> None:
        self._n = itertools.count()

    def __call__(self) -> str:
        return f"?v{next(self._n)}"


# --------------------------------------------------------------------------- components

#: parameter -> its component, for the components checking each value node on its own
VALUE_COMPONENTS = {
    SH.datatype: SH.DatatypeConstraintComponent,
    SH["class"]: SH.ClassConstraintComponent,
    SH["in"]: SH.InConstraintComponent,
    SH.nodeKind: SH.NodeKindConstraintComponent,
    SH.minLength: SH.MinLengthConstraintComponent,
    SH.maxLength: SH.MaxLengthConstraintComponent,
    SH.pattern: SH.PatternConstraintComponent,
    SH.minInclusive: SH.MinInclusiveConstraintComponent,
    SH.maxInclusive: SH.MaxInclusiveConstraintComponent,
    SH.minExclusive: SH.MinExclusiveConstraintComponent,
    SH.maxExclusive: SH.MaxExclusiveConstraintComponent,
    SH.lessThan: SH.LessThanConstraintComponent,
    SH.lessThanOrEquals: SH.LessThanOrEqualsConstraintComponent,
    SH.disjoint: SH.DisjointConstraintComponent,
    SH.node: SH.NodeConstraintComponent,
    SH["not"]: SH.NotConstraintComponent,
    SH["or"]: SH.OrConstraintComponent,
    SH["and"]: SH.AndConstraintComponent,
    SH.xone: SH.XoneConstraintComponent,
    # one value too many: seen from each value (the result names the focus node only)
    SH.maxCount: SH.MaxCountConstraintComponent,
}
#: parameter -> its component, for the components on a focus node's set of values
FOCUS_COMPONENTS = {
    SH.minCount: SH.MinCountConstraintComponent,
    SH.hasValue: SH.HasValueConstraintComponent,
}
#: every constraint component the compiler implements, by its parameter
COMPONENTS = {**VALUE_COMPONENTS, **FOCUS_COMPONENTS, SH.sparql: SH.SPARQLConstraintComponent}
#: parameters only a property shape (one with sh:path) may have
PATH_ONLY = {SH.minCount, SH.maxCount, SH.lessThan, SH.lessThanOrEquals, SH.disjoint}
#: components whose results have no value node
NO_VALUE = {SH.MaxCountConstraintComponent, SH.MinCountConstraintComponent}
_RANGES = {SH.minInclusive: ">=", SH.maxInclusive: "<=", SH.minExclusive: ">", SH.maxExclusive: "<"}

# A component compiles to a SPARQL expression that is true when the constraint is violated:
# at a value node v (and the focus node f) for the value components, at the focus node f for
# the others. Errors never count as a pass: a comparison that fails is a violation.


def _datatype(dt: Node, v: str, names: dict[str, str]) -> str:
    if dt == RDF.langString:
        return f'!(isLiteral({v}) && LANG({v}) != "")'
    ok = f"isLiteral({v}) && datatype({v}) = {_n3(dt, names)}"
    if dt in CASTABLE and dt != XSD.string:  # an ill-typed literal ("abc"^^xsd:integer) fails
        ok += f" && COALESCE(isLiteral({_n3(dt, names)}(STR({v}))), false)"
    return f"!({ok})"


def _in(sg: Graph, items: Node, v: str, names: dict[str, str]) -> str:
    members = list(Collection(sg, items))  # type: ignore[arg-type]
    return "!(" + (" || ".join(f"sameTerm({v}, {_n3(m, names)})" for m in members) or "false") + ")"


def _distinct(f: str, path: str, names: list[str], bound: str | None = None) -> str:
    """A group matching pairwise different values (in the variables names, and bound: one
    value already bound) of f's path."""
    triples = " . ".join(f"{f} {path} {x}" for x in names)
    names = names if bound is None else [bound, *names]
    different = " && ".join(f"!sameTerm({a}, {b})" for a, b in itertools.combinations(names, 2))
    return f"{triples} ." + (f" FILTER({different})" if different else "")


def _any(exprs: list[str]) -> str:
    return " || ".join(f"({e})" for e in exprs) or "false"


@dataclass
class _Compiler:
    """Violation expressions of shapes; ``stack`` holds the shapes being compiled."""

    sg: Graph
    names: dict[str, str]  # namespace -> prefix, for shorter queries
    fresh: Vars = field(default_factory=Vars)
    stack: list[Node] = field(default_factory=list)

    def parts(self, shape: Node) -> tuple[str | None, list[tuple[URIRef, URIRef, Node]]]:
        """The shape's path (None: a node shape) and its (parameter, component, value) list."""
        path = _path(self.sg.value(shape, SH.path), self.names)
        out = []
        for pred, obj in sorted(self.sg.predicate_objects(shape)):
            if pred in PATH_ONLY and path is None:
                raise UnsupportedShapes(
                    f"{pred} 只能用于属性形状 / needs a property shape: {shape}"
                )
            if pred in VALUE_COMPONENTS or pred in FOCUS_COMPONENTS:
                out.append((pred, COMPONENTS[pred], obj))
        return path, out

    def focus(self, pred: URIRef, obj: Node, f: str, path: str | None) -> str | None:
        """The violation expression of a focus-level component (None: it never fails)."""
        if pred == SH.hasValue:
            if path is None:
                return f"!sameTerm({f}, {_n3(obj, self.names)})"
            return f"NOT EXISTS {{ {f} {path} {_n3(obj, self.names)} }}"
        n = int(obj)  # type: ignore[call-overload]
        if n <= 0:  # sh:minCount 0
            return None
        return f"NOT EXISTS {{ {_distinct(f, path, [self.fresh() for _ in range(n)])} }}"  # type: ignore[arg-type]

    def value(self, shape: Node, pred: URIRef, obj: Node, f: str, v: str, path: str | None) -> str:
        """The violation expression at value node v (f: the focus node)."""
        n3 = functools.partial(_n3, names=self.names)
        if pred == SH.datatype:
            return _datatype(obj, v, self.names)
        if pred == SH["class"]:
            return f"NOT EXISTS {{ {v} {_subclass_path(self.names)} {n3(obj)} }}"
        if pred == SH["in"]:
            return _in(self.sg, obj, v, self.names)
        if pred == SH.nodeKind:
            if obj not in NODE_KINDS:
                raise UnsupportedShapes(f"未知的 sh:nodeKind / unknown sh:nodeKind {obj}")
            return f"!{NODE_KINDS[obj].format(v=v)}"  # type: ignore[index]
        if pred in (SH.minLength, SH.maxLength):
            op = "<" if pred == SH.minLength else ">"
            return f"isBlank({v}) || STRLEN(STR({v})) {op} {int(obj)}"  # type: ignore[call-overload]
        if pred == SH.pattern:
            flags = self.sg.value(shape, SH.flags)
            args = n3(Literal(str(obj))) + (f", {n3(Literal(str(flags)))}" if flags else "")
            return f"isBlank({v}) || !REGEX(STR({v}), {args})"
        if pred in _RANGES:
            return f"!COALESCE({v} {_RANGES[pred]} {n3(obj)}, false)"
        if pred in (SH.lessThan, SH.lessThanOrEquals):
            w, op = self.fresh(), "<" if pred == SH.lessThan else "<="
            return f"EXISTS {{ {f} {n3(obj)} {w} FILTER(!COALESCE({v} {op} {w}, false)) }}"
        if pred == SH.disjoint:
            return f"EXISTS {{ {f} {n3(obj)} {v} }}"
        if pred == SH.maxCount:
            others = [self.fresh() for _ in range(int(obj))]  # type: ignore[call-overload]
            return f"EXISTS {{ {_distinct(f, path, others, v)} }}" if others else "true"  # type: ignore[arg-type]
        return self._logical(pred, obj, v)

    def _logical(self, pred: URIRef, obj: Node, v: str) -> str:
        if pred == SH.node:
            return self.fails(obj, v)
        if pred == SH["not"]:
            return f"!({self.fails(obj, v)})"
        fails = [self.fails(m, v) for m in Collection(self.sg, obj)]  # type: ignore[arg-type]
        if pred == SH["or"]:
            return " && ".join(f"({x})" for x in fails) or "true"
        if pred == SH["and"]:
            return _any(fails)
        passing = " + ".join(f"IF({x}, 0, 1)" for x in fails) or "0"
        return f"({passing}) != 1"  # sh:xone

    def fails(self, shape: Node, x: str) -> str:
        """An expression: the node in x does not conform to the shape (used by sh:node …)."""
        if shape in self.stack:
            raise UnsupportedShapes(
                f"不支持递归的形状 / recursive shapes are not supported: {shape}"
            )
        if (shape, SH.sparql, None) in self.sg:
            raise UnsupportedShapes(
                f"经 sh:node、sh:or 等引用的形状不能有 sh:sparql / a shape used by a logical "
                f"constraint cannot have SPARQL-based constraints: {shape}"
            )
        if _deactivated(self.sg, shape):
            return "false"
        self.stack.append(shape)
        try:
            path, parts = self.parts(shape)
            exprs = [e for _, e in self.at_focus(shape, path, parts, x)]
            if path is not None and any(p in VALUE_COMPONENTS for p, _, _ in parts):
                w = self.fresh()
                per_value = _any([e for _, e in self.at_value(shape, path, parts, x, w)])
                exprs.append(f"EXISTS {{ {x} {path} {w} FILTER({per_value}) }}")
            for prop in self.sg.objects(shape, SH.property):
                if path is not None:
                    raise UnsupportedShapes(
                        f"属性形状的 sh:property / sh:property on a property shape: {shape}"
                    )
                exprs.append(self.fails(prop, x))
        finally:
            self.stack.pop()
        return _any(exprs)

    def at_focus(
        self,
        shape: Node,
        path: str | None,
        parts: list,
        f: str,  # type: ignore[type-arg]
    ) -> list[tuple[URIRef, str]]:
        """(component, expression) at the focus node: the focus-level components, and on a
        node shape the value ones too (its value node is the focus node)."""
        out = []
        for pred, comp, obj in parts:
            if pred in FOCUS_COMPONENTS:
                e = self.focus(pred, obj, f, path)
            elif path is None:
                e = self.value(shape, pred, obj, f, f, path)
            else:
                continue
            if e is not None:
                out.append((comp, e))
        return out

    def at_value(
        self,
        shape: Node,
        path: str,
        parts: list,
        f: str,
        v: str,  # type: ignore[type-arg]
    ) -> list[tuple[URIRef, str]]:
        """(component, expression) of the value components of a property shape."""
        return [
            (comp, self.value(shape, pred, obj, f, v, path))
            for pred, comp, obj in parts
            if pred in VALUE_COMPONENTS
        ]


def _is_shape(sg: Graph, node: Node) -> bool:
    return any((node, RDF.type, t) in sg for t in (SH.Shape, SH.NodeShape, SH.PropertyShape))


def _deactivated(sg: Graph, shape: Node) -> bool:
    return bool(sg.value(shape, SH.deactivated, default=Literal(False)).toPython())  # type: ignore[union-attr]


def _path(term: Node | None, names: dict[str, str]) -> str | None:
    if term is None:
        return None
    if not isinstance(term, URIRef):
        raise UnsupportedShapes(
            f"只支持单个属性作为 sh:path / only a single property as sh:path: {term}"
        )
    return _n3(term, names)


def _subclass_path(names: dict[str, str]) -> str:
    """rdf:type/rdfs:subClassOf*: an instance of a class or of one of its subclasses."""
    return f"{_n3(RDF.type, names)}/{_n3(RDFS.subClassOf, names)}*"


# --------------------------------------------------------------------------- the shapes graph


def _check_vocabulary(sg: Graph) -> None:
    """Refuse a shapes graph with a SHACL term the compiler does not implement."""
    known = STRUCTURE | TARGETS | set(COMPONENTS)
    sh = str(SH)
    for _, p, o in sg:
        if str(p).startswith(sh) and p not in known:
            raise UnsupportedShapes(
                f"shapes.ttl 使用了本地校验引擎未实现的 SHACL 特性 {p.n3()}；请实现它或改用 "
                f"IKG_VALIDATE_ENGINE=pyshacl / the native engine does not implement {p}"
            )
        if p == RDF.type and str(o).startswith(sh) and o not in TYPES:
            raise UnsupportedShapes(f"本地校验引擎不支持类型 / unsupported SHACL type {o}")
        if p == SH.severity and o not in SEVERITIES:
            raise UnsupportedShapes(f"未知的 sh:severity / unknown sh:severity {o}")


def _prefixes(sg: Graph, node: Node, into: dict[str, str]) -> dict[str, str]:
    """The prefixes a SPARQL-based target or constraint declares (sh:prefixes), added to into."""
    own: dict[str, str] = {}
    for ontology in sg.objects(node, SH.prefixes):
        for decl in sg.objects(ontology, SH.declare):
            own[str(sg.value(decl, SH.prefix))] = str(sg.value(decl, SH.namespace))
    for prefix, namespace in own.items():
        if into.setdefault(prefix, namespace) != namespace:
            raise UnsupportedShapes(f"前缀 {prefix} 有两种声明 / prefix {prefix} declared twice")
    return own


def _target(sg: Graph, shape: Node, prefixes: dict[str, str], names: dict[str, str]) -> str | None:
    """A group binding ?this to each focus node of the shape (None: no target)."""
    instance = _subclass_path(names)
    classes = list(sg.objects(shape, SH.targetClass))
    classes += [shape] if any((shape, RDF.type, c) in sg for c in CLASSES) else []
    parts = [f"?this {instance} {_n3(c, names)} ." for c in classes]
    parts += [f"VALUES ?this {{ {_n3(n, names)} }}" for n in sg.objects(shape, SH.targetNode)]
    parts += [f"?this {_n3(p, names)} [] ." for p in sg.objects(shape, SH.targetSubjectsOf)]
    parts += [f"[] {_n3(p, names)} ?this ." for p in sg.objects(shape, SH.targetObjectsOf)]
    for t in sg.objects(shape, SH.target):
        select = sg.value(t, SH.select)
        if (t, RDF.type, SH.SPARQLTarget) not in sg or select is None:
            raise UnsupportedShapes(
                f"只支持带 sh:select 的 sh:SPARQLTarget / unsupported target {t}"
            )
        _prefixes(sg, t, prefixes)
        parts.append(f"{{ {select} }}")
    if not parts:
        return None
    return "{ SELECT DISTINCT ?this WHERE { " + " UNION ".join(f"{{ {p} }}" for p in parts) + " } }"


def _message(sg: Graph, node: Node) -> str:
    return " ".join(sorted(str(m) for m in sg.objects(node, SH.message)))


def _sparql_check(sg: Graph, shape: Node, constraint: Node, severity: URIRef) -> SparqlCheck:
    select = sg.value(constraint, SH.select)
    if select is None or (constraint, RDF.type, SH.SPARQLConstraint) not in sg:
        raise UnsupportedShapes(
            f"只支持带 sh:select 的 sh:SPARQLConstraint / unsupported: {constraint}"
        )
    if sg.value(shape, SH.path) is not None:
        raise UnsupportedShapes(f"属性形状上的 sh:sparql / sh:sparql on a property shape: {shape}")
    text = str(select)
    if "$shapesGraph" in text or "$PATH" in text or "$currentShape" in text:
        raise UnsupportedShapes(
            f"本地校验引擎只预绑定 $this / only $this is pre-bound: {constraint}"
        )
    prefixes = _prefixes(sg, constraint, {})
    try:  # the query parses and projects $this (the pre-bound variable must be projected)
        list(
            ox.Store().query(text, prefixes=prefixes, substitutions={_THIS: ox.NamedNode("urn:x")})
        )
    except (SyntaxError, RuntimeError) as e:
        raise UnsupportedShapes(f"SPARQL 约束 {constraint} 无法执行 / cannot run: {e}") from e
    message = _message(sg, constraint) or _message(sg, shape)
    return SparqlCheck(shape, constraint, None, severity, message, text, prefixes)


_THIS = ox.Variable("this")


def _branch(target: str, head: str, checks: list[tuple[int, str]]) -> str:
    """One group of the query: the focus nodes, the value pattern (head) and the checks'
    violation expressions, each row tagged with its check's number (?check)."""
    if len(checks) == 1:
        ((i, e),) = checks
        return f"{target} {head} FILTER({e}) BIND({i} AS ?check)"
    numbers = " ".join(str(i) for i, _ in checks)
    tests = " || ".join(f"(?check = {i} && ({e}))" for i, e in checks)
    return f"{target} {head} VALUES ?check {{ {numbers} }} FILTER({tests})"


def _add_shape(
    c: _Compiler, out: Compiled, shape: Node, focus: tuple[int, str], seen: tuple[Node, ...] = ()
) -> None:
    """The checks of a shape and its property shapes on the focus nodes of a target (its
    number, and the pattern binding them to ?this)."""
    number, target = focus
    if _deactivated(c.sg, shape):
        return
    if shape in seen:
        raise UnsupportedShapes(f"不支持递归的形状 / recursive shapes are not supported: {shape}")
    path_term = c.sg.value(shape, SH.path)
    severity = c.sg.value(shape, SH.severity, default=SH.Violation)
    message = _message(c.sg, shape)

    def numbered(found: list[tuple[URIRef, str]]) -> list[tuple[int, str]]:
        for component, _ in found:
            out.checks.append(Check(shape, component, path_term, severity, message))  # type: ignore[arg-type]
        return list(
            zip(
                range(len(out.checks) - len(found), len(out.checks)),
                [e for _, e in found],
                strict=True,
            )
        )

    c.fresh = Vars()  # the branches of the query share their variable names (see _union)
    path, parts = c.parts(shape)
    if at_focus := c.at_focus(shape, path, parts, "?this"):
        out.branches.append((number, _branch(target, "", numbered(at_focus))))
    if path is not None and (at_value := c.at_value(shape, path, parts, "?this", "?value")):
        out.branches.append((number, _branch(target, f"?this {path} ?value .", numbered(at_value))))
    for constraint in c.sg.objects(shape, SH.sparql):
        if not _deactivated(c.sg, constraint):
            out.sparql[len(out.checks)] = _sparql_check(c.sg, shape, constraint, severity)  # type: ignore[arg-type]
            out.branches.append((number, f"{target} BIND({len(out.checks)} AS ?check)"))
            out.checks.append(Check(shape, SH.SPARQLConstraintComponent, None, severity, message))  # type: ignore[arg-type]
    for prop in c.sg.objects(shape, SH.property):
        if path is not None:
            raise UnsupportedShapes(
                f"属性形状的 sh:property / sh:property on a property shape: {shape}"
            )
        _add_shape(c, out, prop, focus, (*seen, shape))


def _select(branches: list[str]) -> str:
    """The query of the groups (None: no group)."""
    return f"SELECT ?check ?this ?value WHERE {{\n{_union(branches)}\n}}" if branches else ""


def _union(branches: list[str]) -> str:
    """The UNION of the groups, as a balanced tree: Oxigraph plans a long chain of UNIONs in
    time quadratic in its length (400 branches: 0.2 s), a tree in about linear time."""
    if len(branches) == 1:
        return f"{{ {branches[0]} }}"
    half = len(branches) // 2
    return f"{{ {_union(branches[:half])} UNION {_union(branches[half:])} }}"


#: where the focus nodes of each shape are written while a store is validated (then dropped)
FOCUS_GRAPH = "urn:x-indicator-kg:shacl:"
FOCUS_PREFIX = "ikgf"
FOCUS_SHAPE = FOCUS_GRAPH + "s"
#: the targets that have focus nodes
FOCUSED = f"SELECT DISTINCT ?s WHERE {{ GRAPH {FOCUS_PREFIX}: {{ ?s {FOCUS_PREFIX}:of [] }} }}"


def _names(sg: Graph, prefixes: dict[str, str]) -> dict[str, str]:
    """namespace -> prefix for the generated queries: the prefixes the SPARQL-based targets and
    constraints declare, then the shapes graph's own where their prefix is free; all are added
    to prefixes (what the queries are run with)."""
    for node in set(sg.subjects(SH.prefixes, None)):
        _prefixes(sg, node, prefixes)
    if prefixes.setdefault(FOCUS_PREFIX, FOCUS_GRAPH) != FOCUS_GRAPH:
        raise UnsupportedShapes(
            f"前缀 {FOCUS_PREFIX} 保留给校验引擎 / prefix reserved: {FOCUS_PREFIX}"
        )
    for prefix, namespace in sg.namespaces():
        if prefix and _LOCAL.fullmatch(prefix):
            prefixes.setdefault(prefix, str(namespace))
    return {ns: p for p, ns in sorted(prefixes.items(), key=lambda i: -len(i[1]))}


def compile_shapes(sg: Graph) -> Compiled:
    """Compile a shapes graph; UnsupportedShapes when it uses what the compiler cannot run."""
    _check_vocabulary(sg)
    out = Compiled()
    c = _Compiler(sg, _names(sg, out.prefixes))
    shapes = {s for p in TARGETS for s in sg.subjects(p, None)}
    shapes |= {s for c in CLASSES for s in sg.subjects(RDF.type, c) if _is_shape(sg, s)}
    inserts: list[str] = []
    for shape in sorted(shapes, key=str):
        target = _target(sg, shape, out.prefixes, c.names)
        if target is not None:
            mark = f"{FOCUS_PREFIX}: {{ {FOCUS_PREFIX}:s{len(inserts)} {FOCUS_PREFIX}:of ?this }}"
            inserts.append(f"INSERT {{ GRAPH {mark} }} WHERE {{ {target} }}")
            _add_shape(c, out, shape, (len(inserts) - 1, f"GRAPH {mark}"))
    out.targets = " ;\n".join(inserts)
    try:  # a syntax error shows now, not in the first table's validation
        out.validate(ox.Store())
        if out.branches:
            ox.Store().query(_select([b for _, b in out.branches]), prefixes=out.prefixes)
    except SyntaxError as e:
        raise UnsupportedShapes(
            f"形状编译出的 SPARQL 无法解析 / compiled SPARQL does not parse: {e}"
        ) from e
    return out


def _sparql_results(store: ox.Store, sc: SparqlCheck, this: object) -> Iterator[Violation]:
    """The results of a SPARQL-based constraint at one focus node ($this pre-bound)."""
    focus = to_rdflib(this)
    for solution in store.query(sc.select, prefixes=sc.prefixes, substitutions={_THIS: this}):  # type: ignore[dict-item]
        value = solution["value"] if _has(solution, "value") else None
        path = solution["path"] if _has(solution, "path") else None
        message = _fill(sc.message, solution)
        yield Violation(
            focus,  # type: ignore[arg-type]
            to_rdflib(path) if path is not None else sc.path,
            to_rdflib(value) if value is not None else focus,
            sc.shape,
            SH.SPARQLConstraintComponent,
            sc.severity,
            message,
        )


def _has(solution: ox.QuerySolution, name: str) -> bool:
    try:
        return solution[name] is not None
    except (KeyError, IndexError):
        return False


def _fill(template: str, solution: ox.QuerySolution) -> str:
    """A message with {?var} and {$var} replaced by the solution's values."""

    def value(match: re.Match[str]) -> str:
        term = solution[match.group(1)] if _has(solution, match.group(1)) else None
        return str(to_rdflib(term)) if term is not None else match.group(0)

    return re.sub(r"\{[?$](\w+)\}", value, template)
