"""SHACL over a pyoxigraph store, result for result what pySHACL reports, for the shapes this project uses.

The shapes graph is compiled into plain data (:class:`Shape`); evaluation asks the store for focus nodes,
values and class members with SPARQL (in Rust, fast at a million triples) and checks values in Python with
pySHACL's own rules (rdflib's notion of an ill-typed literal, ``re.match`` for patterns, one uniqueLang
result per repeated language). Supported: targets (class, subjects of, objects of, node), property paths
that are one IRI or its inverse, minCount, maxCount, datatype, class, nodeKind, pattern/flags,
uniqueLang, sh:or of such shapes, and SPARQL-based constraints (``sh:select`` with ``$this``).
:func:`compile_shapes` returns None for anything else, and the caller then uses pySHACL.

Terms are N-Triples strings, as in :mod:`kgtool.rules`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

SH = "http://www.w3.org/ns/shacl#"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
SUBCLASS = "<http://www.w3.org/2000/01/rdf-schema#subClassOf>"
FIRST, REST = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#first>", "<http://www.w3.org/1999/02/22-rdf-syntax-ns#rest>"
LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
XSD = "http://www.w3.org/2001/XMLSchema#"


def sh(name: str) -> str:
    return f"<{SH}{name}>"


_ANNOTATIONS = {"<http://www.w3.org/2000/01/rdf-schema#label>", "<http://www.w3.org/2000/01/rdf-schema#comment>",
                RDF_TYPE, sh("name"), sh("description"), sh("order"), sh("group"), sh("declare"),
                "<http://www.w3.org/2004/02/skos/core#definition>"}
_SHAPE_KEYS = {sh(k) for k in ("targetClass", "targetSubjectsOf", "targetObjectsOf", "targetNode", "property",
                               "path", "minCount", "maxCount", "datatype", "class", "nodeKind", "pattern",
                               "flags", "uniqueLang", "or", "sparql", "message", "severity")}


@dataclass
class Shape:
    node: str
    path: str | None = None  # an IRI in N-Triples form, or None: the value node is the focus itself
    inverse: bool = False
    targets: dict[str, list[str]] = field(default_factory=dict)
    min_count: int | None = None
    max_count: int | None = None
    datatype: str | None = None
    classes: list[str] = field(default_factory=list)
    node_kind: str | None = None
    patterns: list[re.Pattern] = field(default_factory=list)
    unique_lang: bool = False
    ors: list[list[Shape]] = field(default_factory=list)
    properties: list[Shape] = field(default_factory=list)
    sparql: list[tuple[str, str, str]] = field(default_factory=list)  # (constraint node, query, message)
    severity: str = "Violation"
    message: str = ""


class Unsupported(Exception):
    """The shapes use a SHACL feature this module does not evaluate."""


_CLASSES = {"<http://www.w3.org/2000/01/rdf-schema#Class>", "<http://www.w3.org/2002/07/owl#Class>"}


def compile_shapes(triples: list[tuple[str, str, str]]) -> list[Shape] | None:
    """The node shapes with targets, or None when a feature is not supported here."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for s, p, o in triples:
        graph[s][p].append(o)
    try:
        for props in graph.values():  # a shape that is also a class targets its instances implicitly
            if _CLASSES & set(props.get(RDF_TYPE, ())) and any(k.startswith(f"<{SH}") for k in props):
                raise Unsupported("implicit class targets")
        roots = [s for s, props in graph.items() if any(k.startswith(f"<{SH}target") for k in props)]
        return [_shape(graph, s, set()) for s in sorted(roots)]
    except Unsupported:
        return None


def locality_problem(shapes: list[Shape]) -> str | None:
    """Why evaluating these shapes on a focus node's neighbourhood might not give pySHACL's results, or None.

    The neighbourhood (:func:`kgtool.fastvalidate.neighbourhood_stores`) holds a node's own triples, the
    links into it along the predicates some shape follows backwards, the classes of its values and the class
    hierarchy. That answers every constraint here as the whole graph would, provided that no shape looks
    further: no shape on the values of a property (nested sh:property, or sh:or members with a path, under a
    property shape) and no SPARQL constraint reading anything but ``$this``'s own triples. Every shape that
    reports must also have a sh:message (pySHACL words a result itself otherwise)."""
    for shape in shapes:
        problem = _node_problem(shape, reports=True)
        if problem:
            return f"{_plain_node(shape.node)}: {problem}"
    return None


def _plain_node(node: str) -> str:
    return node[1:-1] if node.startswith("<") else node


def _node_problem(shape: Shape, reports: bool) -> str | None:
    """A shape evaluated on the focus node itself."""
    own = (shape.min_count is not None or shape.max_count is not None or shape.datatype or shape.classes
           or shape.node_kind or shape.patterns or shape.unique_lang or shape.ors)
    if reports and own and not shape.message:
        return "no sh:message"
    for prop in shape.properties:
        problem = _property_problem(prop, reports)
        if problem:
            return problem
    for members in shape.ors:
        for member in members:
            problem = _property_problem(member, False) if member.path else _node_problem(member, False)
            if problem:
                return problem
    for _node, query, message in shape.sparql:
        if reports and not (message or shape.message):
            return "a SPARQL constraint without sh:message"
        if not sparql_is_local(query):
            return "a SPARQL constraint reads more than $this's own triples"
    return None


def _property_problem(shape: Shape, reports: bool) -> str | None:
    """A shape evaluated on the values of a property of the focus node."""
    if shape.properties or shape.sparql:
        return "a shape on the values of a property"
    if reports and not shape.message:
        return "no sh:message"
    if not all(_value_only(member) for members in shape.ors for member in members):
        return "sh:or reads the triples of a property's values"
    return None


def _value_only(shape: Shape) -> bool:
    return (not shape.path and not shape.properties and not shape.sparql
            and all(_value_only(member) for members in shape.ors for member in members))


def sparql_is_local(query: str) -> bool:
    """Whether every triple pattern of the query has ``$this`` as subject and an IRI as predicate (no
    property paths, GRAPH or SERVICE): then it reads the focus node's own triples only."""
    return sparql_predicates(query) is not None


def sparql_predicates(query: str) -> frozenset[str] | None:
    """The predicates (N-Triples) of the query's triple patterns when it is local (see
    :func:`sparql_is_local`), else None. Decided by rdflib's SPARQL parser, once per query text (the answer
    is cached)."""
    import hashlib

    from .closure import read_cached, write_cached

    key = hashlib.sha256(f"sparql-local-v2|{query}".encode()).hexdigest()
    cached = read_cached(key, suffix=".local")
    if cached is not None and cached[:3] in (b"yes", b"no\n"):
        return frozenset(cached.decode("utf-8").split("\n")[1:]) - {""} if cached[:3] == b"yes" else None
    found = _sparql_predicates(query)
    write_cached(key, ("yes\n" + "\n".join(sorted(found)) if found is not None else "no\n").encode("utf-8"),
                 suffix=".local", keep=None)  # a few bytes for each SPARQL constraint, all used by every run
    return found


def _sparql_predicates(query: str) -> frozenset[str] | None:
    from rdflib import URIRef, Variable
    from rdflib.plugins.sparql import prepareQuery

    try:
        parsed = prepareQuery(query)
    except Exception:  # whatever rdflib cannot read is not known to be local
        return None
    this = Variable("this")
    predicates: set[str] = set()
    stack: list = [parsed.algebra]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            name = getattr(item, "name", "")
            if name in ("Graph", "GraphGraphPattern") or "Service" in name:
                return None
            for key, value in item.items():
                if key == "_vars":
                    continue
                if key == "triples":
                    flat = [term for group in value for term in group]
                    if len(flat) % 3:
                        return None
                    for i in range(0, len(flat), 3):
                        if flat[i] != this or not isinstance(flat[i + 1], URIRef):
                            return None
                        predicates.add(f"<{flat[i + 1]}>")
                else:
                    stack.append(value)
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return frozenset(predicates)


def read_predicates(shapes: list[Shape]) -> set[str] | None:
    """The predicates of a focus node's own triples that evaluating the shapes reads (paths, targets,
    rdf:type, SPARQL constraints), or None when a SPARQL constraint is not local."""
    found = {RDF_TYPE}
    stack = list(shapes)
    while stack:
        shape = stack.pop()
        if shape.path and not shape.inverse:
            found.add(shape.path)
        found.update(shape.targets.get("targetSubjectsOf", []))
        for _node, query, _message in shape.sparql:
            predicates = sparql_predicates(query)
            if predicates is None:
                return None
            found |= predicates
        stack += shape.properties + [member for members in shape.ors for member in members]
    return found


def class_checked(shapes: list[Shape]) -> tuple[set[str], set[str]]:
    """The predicates whose values some shape checks with sh:class: followed forwards, and backwards.
    Only those values' classes matter to the shapes."""
    forwards: set[str] = set()
    backwards: set[str] = set()
    stack = list(shapes)
    while stack:
        shape = stack.pop()
        if shape.path and _checks_class(shape):
            (backwards if shape.inverse else forwards).add(shape.path)
        stack += shape.properties + [member for members in shape.ors for member in members]
    return forwards, backwards


def _checks_class(shape: Shape) -> bool:
    return bool(shape.classes) or any(_checks_class(m) for members in shape.ors for m in members if not m.path)


def _literal(term: str) -> str:
    match = re.match(r'^"((?:[^"\\]|\\.)*)"', term)
    if not match:
        raise Unsupported(term)
    escapes = {"n": "\n", "t": "\t", "r": "\r"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(1)), match.group(1))


def _one(props: dict, key: str) -> str | None:
    values = props.get(sh(key), [])
    if len(values) > 1:
        raise Unsupported(f"several sh:{key}")
    return values[0] if values else None


def _items(graph, head: str) -> list[str]:
    items = []
    while head != "<http://www.w3.org/1999/02/22-rdf-syntax-ns#nil>":
        items.append(graph[head][FIRST][0])
        head = graph[head][REST][0]
    return items


def _shape(graph, node: str, seen: set[str]) -> Shape:
    if node in seen:
        raise Unsupported("recursive shapes")
    seen = seen | {node}
    props = graph[node]
    if set(props) - _SHAPE_KEYS - _ANNOTATIONS:
        raise Unsupported(str(set(props) - _SHAPE_KEYS - _ANNOTATIONS))
    shape = Shape(node)
    for key in ("targetClass", "targetSubjectsOf", "targetObjectsOf", "targetNode"):
        if props.get(sh(key)):
            shape.targets[key] = list(props[sh(key)])
    path = _one(props, "path")
    if path is not None:
        if path.startswith("<"):
            shape.path = path
        elif set(graph[path]) == {sh("inversePath")} and graph[path][sh("inversePath")][0].startswith("<"):
            shape.path, shape.inverse = graph[path][sh("inversePath")][0], True
        else:
            raise Unsupported("complex property path")
    for key, attr in (("minCount", "min_count"), ("maxCount", "max_count")):
        value = _one(props, key)
        if value is not None:
            setattr(shape, attr, int(_literal(value)))
    datatype = _one(props, "datatype")
    shape.datatype = datatype[1:-1] if datatype else None
    shape.classes = [c[1:-1] for c in props.get(sh("class"), [])]
    kind = _one(props, "nodeKind")
    shape.node_kind = kind[len(SH) + 1:-1] if kind else None
    flags = _literal(_one(props, "flags") or '""').lower()
    re_flags = (re.I if "i" in flags else 0) | (re.M if "m" in flags else 0)
    shape.patterns = [re.compile(_literal(p), re_flags) for p in props.get(sh("pattern"), [])]
    unique = _one(props, "uniqueLang")
    shape.unique_lang = bool(unique and _literal(unique) == "true")
    shape.ors = [[_shape(graph, m, seen) for m in _items(graph, head)] for head in props.get(sh("or"), [])]
    shape.properties = [_shape(graph, p, seen) for p in props.get(sh("property"), [])]
    shape.sparql = [_sparql(graph, c) for c in props.get(sh("sparql"), [])]
    severity = _one(props, "severity")
    shape.severity = severity[len(SH) + 1:-1] if severity else "Violation"
    messages = props.get(sh("message"), [])
    shape.message = _literal(sorted(messages, key=lambda m: not m.endswith("@en"))[0]) if messages else ""
    return shape


def _sparql(graph, node: str) -> tuple[str, str, str]:
    props = graph[node]
    allowed = {sh("select"), sh("message"), sh("prefixes"), RDF_TYPE, sh("severity")}
    if set(props) - allowed or len(props.get(sh("select"), [])) != 1 or props.get(sh("severity")):
        raise Unsupported("SPARQL constraint form")
    prologue = ""
    for source in props.get(sh("prefixes"), []):
        for decl in graph[source].get(sh("declare"), []):
            prefix = _literal(graph[decl][sh("prefix")][0])
            namespace = _literal(graph[decl][sh("namespace")][0])
            prologue += f"PREFIX {prefix}: <{namespace}>\n"
    messages = props.get(sh("message"), [])
    message = _literal(messages[0]) if messages else ""
    return node, prologue + _literal(props[sh("select")][0]), message


# ---------------------------------------------------------------------------------------------- evaluation
class View:
    """The data graph: a pyoxigraph store whose default graph is the union of ``graphs``; ``focus``
    restricts the results to those focus nodes (N-Triples strings)."""

    def __init__(self, store, graphs: list[str], focus: set[str] | None = None,
                 exact: dict[tuple[str, str], list] | None = None) -> None:
        from .store import graph_terms

        self.store, self.focus, self.exact = store, focus, exact or {}
        self.graphs = graph_terms(graphs)
        self._values: dict[tuple[str, bool], dict[str, list]] = {}
        self._instances: dict[str, set[str]] = {}

    def select(self, query: str):
        return self.store.query(query, default_graph=self.graphs, named_graphs=[])

    def focus_nodes(self, shape: Shape) -> dict[str, object]:
        found = {}
        for solution in self.select(f"SELECT DISTINCT ?this WHERE {{ {_target_pattern(shape)} }}"):
            term = solution[0]
            key = str(term)
            if self.focus is None or key in self.focus:
                found[key] = term
        return found

    def values(self, path: str, inverse: bool) -> dict[str, list]:
        if (path, inverse) not in self._values:
            table: dict[str, list] = defaultdict(list)
            for s, o in self.select(f"SELECT ?s ?o WHERE {{ ?s {path} ?o }}"):
                if inverse:
                    table[str(o)].append(s)
                else:
                    table[str(s)].append(o)
            if not inverse:
                for subject, values in table.items():
                    if (subject, path) in self.exact:
                        table[subject] = _exact(values, self.exact[subject, path])
            self._values[path, inverse] = table
        return self._values[path, inverse]

    def instances(self, cls: str) -> set[str]:
        if cls not in self._instances:
            query = f"SELECT DISTINCT ?x WHERE {{ ?x {RDF_TYPE}/{SUBCLASS}* <{cls}> }}"
            self._instances[cls] = {str(s[0]) for s in self.select(query)}
        return self._instances[cls]


def _exact(values: list, exact: list) -> list:
    """Put back the literals a store normalised (derived integer types) in place of their xsd:integer."""
    numbers = {e.value.strip().lstrip("+").lstrip("0") or "0" for e in exact}
    kept = [v for v in values if not (str(v).endswith(f"^^<{XSD}integer>") and v.value in numbers)]
    return kept + list(exact)


def load_exact(path) -> dict[tuple[str, str], list]:
    """exact-literals.nt as (subject, predicate) -> the literals as written."""
    import pyoxigraph as ox

    table: dict[tuple[str, str], list] = defaultdict(list)
    for t in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES):
        table[str(t.subject), str(t.predicate)].append(t.object)
    return dict(table)


def _target_pattern(shape: Shape) -> str:
    parts = [f"{{ ?this {RDF_TYPE}/{SUBCLASS}* {c} }}" for c in shape.targets.get("targetClass", [])]
    parts += [f"{{ ?this {p} ?any }}" for p in shape.targets.get("targetSubjectsOf", [])]
    parts += [f"{{ ?any {p} ?this }}" for p in shape.targets.get("targetObjectsOf", [])]
    parts += [f"{{ VALUES ?this {{ {n} }} }}" for n in shape.targets.get("targetNode", [])]
    return " UNION ".join(parts)


@dataclass(frozen=True)
class Result:
    focus: object  # a pyoxigraph term
    shape: Shape
    component: str
    value: object | None = None
    path: str = ""
    message: str | None = None  # SPARQL constraints bring their own


def evaluate(shapes: list[Shape], view: View) -> list[Result]:
    results: list[Result] = []
    for shape in shapes:
        foci = view.focus_nodes(shape)
        if foci:
            results += node_results(shape, foci, view)
    return results


def node_results(shape: Shape, foci: dict[str, object], view: View) -> list[Result]:
    results = constraint_results(shape, {f: (t, [t]) for f, t in foci.items()}, view)
    for prop in shape.properties:
        table = prop_values(prop, view)
        results += constraint_results(prop, {f: (t, table.get(f, [])) for f, t in foci.items()}, view)
    for _constraint, query, message in shape.sparql:
        results += sparql_results(shape, query, message or shape.message, foci, view)
    return results


def prop_values(shape: Shape, view: View) -> dict[str, list]:
    return view.values(shape.path, shape.inverse) if shape.path else {}


def constraint_results(shape: Shape, focus_values: dict[str, tuple[object, list]],
                       view: View) -> list[Result]:
    out: list[Result] = []
    path = shape.path[1:-1] if shape.path and not shape.inverse else ""

    def add(focus, component, value=None):
        out.append(Result(focus, shape, component, value, path))

    for _key, (focus, values) in focus_values.items():
        distinct = {str(v): v for v in values}
        if shape.min_count is not None and len(distinct) < shape.min_count:
            add(focus, "MinCountConstraintComponent")
        if shape.max_count is not None and len(distinct) > shape.max_count:
            add(focus, "MaxCountConstraintComponent")
        for text, value in distinct.items():
            if shape.datatype and not datatype_ok(value, shape.datatype):
                add(focus, "DatatypeConstraintComponent", value)
            for cls in shape.classes:
                if text not in view.instances(cls):
                    add(focus, "ClassConstraintComponent", value)
            if shape.node_kind and not node_kind_ok(value, shape.node_kind):
                add(focus, "NodeKindConstraintComponent", value)
            for pattern in shape.patterns:
                if not pattern_ok(value, pattern):
                    add(focus, "PatternConstraintComponent", value)
            for members in shape.ors:
                if not any(conforms(member, value, view) for member in members):
                    add(focus, "OrConstraintComponent", value)
        if shape.unique_lang:
            seen: dict[str, int] = defaultdict(int)
            for value in distinct.values():
                if getattr(value, "language", None):
                    seen[value.language.lower()] += 1
            for _lang in (lang for lang, n in seen.items() if n > 1):
                add(focus, "UniqueLangConstraintComponent")
    return out


def conforms(shape: Shape, node, view: View) -> bool:
    return not node_results(shape, {str(node): node}, view) if not shape.path else not constraint_results(
        shape, {str(node): (node, prop_values(shape, view).get(str(node), []))}, view)


def sparql_results(shape: Shape, query: str, message: str, foci: dict[str, object],
                   view: View) -> list[Result]:
    """Each solution of the constraint's SELECT, $this bound to the shape's focus nodes."""
    from .binding import masked as blanked

    masked = blanked(query)
    start = re.search(r"(?i)\bWHERE\b", masked)
    brace = masked.find("{", start.end() if start else 0)
    targets = f"{{ SELECT DISTINCT ?this WHERE {{ {_target_pattern(shape)} }} }}"  # then kept: foci only
    bound = f"{query[:brace + 1]} {targets} {query[brace + 1:]}"
    out = []
    solutions = view.select(bound)
    names = [v.value for v in solutions.variables]
    for solution in solutions:
        row = dict(zip(names, solution, strict=True))
        focus = row.get("this")
        if focus is None or str(focus) not in foci:
            continue
        text = _fill(message, row)
        path = row.get("path")
        path_text = path.value if path is not None and str(path)[0] == "<" else ""
        value = row.get("value") or focus
        out.append(Result(focus, shape, "SPARQLConstraintComponent", value, path_text, text))
    return out


def _fill(message: str, row: dict) -> str:
    """{?name} and {$name} in a SPARQL constraint's message, replaced by the solution's values."""
    def value(match: re.Match) -> str:
        term = row.get(match.group(1))
        return term.value if term is not None else match.group(0)

    return re.sub(r"\{[?$]([A-Za-z_][A-Za-z0-9_]*)\}", value, message)


# ------------------------------------------------------------------------- value checks, pySHACL's rules
_KINDS = {"IRI": {"IRI"}, "BlankNode": {"BlankNode"}, "Literal": {"Literal"},
          "BlankNodeOrIRI": {"BlankNode", "IRI"}, "BlankNodeOrLiteral": {"BlankNode", "Literal"},
          "IRIOrLiteral": {"IRI", "Literal"}}


def node_kind_ok(value, kind: str) -> bool:
    text = str(value)
    actual = "IRI" if text[0] == "<" else "BlankNode" if text[0] == "_" else "Literal"
    return actual in _KINDS.get(kind, set())


def pattern_ok(value, pattern: re.Pattern) -> bool:
    text = str(value)
    if text.startswith("_:"):
        return False
    return bool(pattern.match(value.value))


_LITERALS: dict[tuple[str, str], tuple[bool, object]] = {}


def datatype_ok(value, rule: str) -> bool:
    """pySHACL's DatatypeConstraintComponent: rdflib decides whether the lexical form is ill-typed."""
    import pyoxigraph as ox

    if not isinstance(value, ox.Literal):
        return False
    if value.language:
        return rule == LANGSTRING
    datatype = value.datatype.value
    if rule == "http://www.w3.org/2000/01/rdf-schema#Literal":
        return True
    if datatype != rule:
        return rule == "http://www.w3.org/2000/01/rdf-schema#Datatype"
    key = (value.value, datatype)
    if key not in _LITERALS:
        from rdflib import Literal, URIRef

        literal = Literal(value.value, datatype=URIRef(datatype))
        _LITERALS[key] = (bool(getattr(literal, "ill_typed", False)), literal.value)
    ill_typed, python_value = _LITERALS[key]
    return not ill_typed and _actual_type_ok(python_value, rule)


def _actual_type_ok(python_value, rule: str) -> bool:
    import datetime
    from decimal import Decimal

    expected = {XSD + "string": str, XSD + "integer": int, XSD + "float": float, XSD + "decimal": Decimal,
                XSD + "boolean": bool, XSD + "date": datetime.date, XSD + "time": datetime.time,
                XSD + "dateTime": datetime.datetime}.get(rule)
    return expected is None or isinstance(python_value, expected)
