"""Fast validation: the whole graph in seconds, a contribution against a million triples in about one.

Both read the project's snapshot (:mod:`kgtool.snapshot`: asserted + inferred triples in an Oxigraph store)
and evaluate the shapes with :mod:`kgtool.shapes_fast`, which gives pySHACL's results; when the shapes use
a feature it does not evaluate, both fall back to pySHACL.

**A contribution** (:func:`check_contribution_fast`) is checked without loading the graph:

1. its new inferences come from :class:`kgtool.rules.Closure` run on the contribution alone, joining with
   the cached closure in the store (``base``) wherever a rule needs an older triple;
2. its focus nodes are every node it or its inferences mention (not classes), plus the neighbours of any
   node whose classes change (their ``sh:class`` checks read those classes);
3. the shapes only look one step from a focus node (its values, the values' classes, the links into it
   along inverse paths, and SPARQL constraints over ``$this``'s own triples:
   :func:`kgtool.shapes_fast.locality_problem` checks it), so a small store with the focus nodes' own
   triples of the predicates the shapes read, the links into them along those inverse-path predicates, the
   classes of the values the shapes check with ``sh:class`` and the class hierarchy answers exactly as the
   whole graph would, for those nodes (a few queries to the store, :func:`neighbourhood_stores`);
4. SHACL runs on that neighbourhood before and after adding the contribution and its inferences, and the
   results that are new are the ones the contribution causes.

Results for other nodes cannot change, so when the data conformed before, the verdict equals that of a
full pySHACL run on the merged graph (the benchmark and tests/test_fastvalidate.py check it).
``kgtool validate FILE`` and ``kgtool add`` check a contribution this way (:mod:`kgtool.context`), with
the gate's other stages around it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from . import rules
from .errors import InputError, InvalidTurtle
from .literal_forms import NORMALISED_DATATYPES, may_change
from .project import Project
from .report import Finding, Report
from .shapes_fast import (
    RDF_TYPE,
    SUBCLASS,
    Result,
    View,
    compile_shapes,
    evaluate,
    load_exact,
    locality_problem,
)
from .snapshot import get_snapshot, parse_file

LABEL = "<http://www.w3.org/2000/01/rdf-schema#label>"
LOCAL = "urn:kgtool:neighbourhood"


def project_shapes(project: Project):
    return compile_shapes(list(parse_file(project.shapes_file)))


def validate_project_fast(project: Project) -> Report:
    """The whole graph (ontology + data + inferences) against the shapes, like validate_project."""
    shapes = project_shapes(project)
    if shapes is None:
        from .validate import validate_project

        return validate_project(project)
    snapshot = get_snapshot(project)
    exact = load_exact(snapshot.exact_literals_file)
    view = View(snapshot.open(), snapshot.graphs(True), exact=exact)
    return Report("data/ and ontology/", findings(evaluate(shapes, view), view), snapshot.meta["asserted"])


def check_project(project: Project) -> Report:
    """What `kgtool validate` runs on the bundled data: the shapes, by the fast validator (pySHACL when
    the shapes use a feature it lacks), every typed literal's lexical form, as the gate checks a
    contribution's (a shape's sh:datatype sees ill-typed values only on the properties it constrains),
    and every link against the ontology (:mod:`kgtool.linkcheck`)."""
    from dataclasses import replace

    from .linkcheck import link_findings
    from .vocabulary import ill_typed_findings, without_datatype_echoes

    try:
        report = validate_project_fast(project)
    except InvalidTurtle as exc:  # a finding, as in a contribution: the data does not conform (exit 1)
        return Report("data/ and ontology/", [syntax_finding(project, exc)])
    snapshot = get_snapshot(project)
    store = snapshot.open()
    extra = ill_typed_findings(snapshot.asserted_file) + _citation_mismatches(store) + _label_languages(store)
    extra += link_findings(store, snapshot.asserted_file)
    extra = [replace(f, focus_label=_label([q.object for q in store.quads_for_pattern(
        to_term(f"<{f.focus}>"), to_term(LABEL), None, None)])) for f in extra]
    return replace(report, findings=without_datatype_echoes(report.findings, extra))


def syntax_finding(project: Project, error: InvalidTurtle) -> Finding:
    """A project file that is not Turtle, as the gate reports a contribution's, named from the project's root."""
    path = Path(error.path)
    name = str(path.relative_to(project.root)) if path.is_relative_to(project.root) else error.path
    return Finding("Violation", f"invalid Turtle: {error.reason}", stage="syntax", file=name, line=error.line,
                   column=error.column)


def _label_languages(store) -> list[Finding]:
    """Entities with two rdfs:labels in one language under different tags (the gate's
    :func:`kgtool.references.label_language_conflicts`, over the whole graph)."""
    from .references import LABEL_LANGUAGE_MESSAGE, primary_language

    label = "http://www.w3.org/2000/01/rdf-schema#label"
    rows = store.query(f"""SELECT ?entity ?value ?other WHERE {{
        ?entity <{label}> ?value , ?other .
        FILTER(LANG(?value) != "" && LANG(?other) != "" && LCASE(LANG(?value)) > LCASE(LANG(?other))) }}""")
    found = {}
    for entity, value, other in rows:
        if primary_language(value.language) == primary_language(other.language):
            found.setdefault((entity.value, str(value)), set()).update({value.language, other.language})
    return [Finding("Violation", LABEL_LANGUAGE_MESSAGE.format(tags=" and ".join(f"@{t}" for t in sorted(tags))),
                    focus=entity, path=label, value=value, stage="reference")
            for (entity, value), tags in sorted(found.items())]


def _citation_mismatches(store) -> list[Finding]:
    """Facts citing a reference of an article they are not stated in (the gate's check of a
    contribution, :func:`kgtool.references.citation_mismatches`, over the whole graph)."""
    from .namespaces import shorten
    from .references import CITATION_MESSAGE

    kzcn = "https://w3id.org/kzcn/ontology#"
    rows = store.query(f"""SELECT ?fact ?reference ?article WHERE {{
        ?fact <{kzcn}citesReference> ?reference . ?reference <{kzcn}inArticle> ?article .
        FILTER NOT EXISTS {{ ?fact <{kzcn}statedIn> ?article }} }}""")
    return [Finding("Violation", CITATION_MESSAGE.format(reference=shorten(reference.value),
                                                         article=shorten(article.value)),
                    focus=fact.value, path=f"{kzcn}citesReference", value=f"<{reference.value}>", stage="reference")
            for fact, reference, article in rows]


def findings(results: list[Result], view: View) -> list[Finding]:
    labels = view.values(LABEL, False)
    out = {to_finding(r, labels) for r in results}
    return sorted(out, key=lambda f: (f.focus, f.path, f.message, f.value))


def to_finding(result: Result, labels: dict[str, list]) -> Finding:
    shape = result.shape
    focus_text = str(result.focus)
    return Finding(
        severity=shape.severity, message=result.message if result.message is not None else shape.message,
        focus=_plain(focus_text), focus_label=_label(labels.get(focus_text, [])), path=result.path,
        value="" if result.value is None or str(result.value) == focus_text else str(result.value),
        source_shape=_plain(shape.node))


def _plain(text: str) -> str:
    return text[1:-1] if text.startswith("<") else text


def _label(values: list) -> str:
    fallback = ""
    for value in values:
        language = getattr(value, "language", None) or ""
        if language.startswith("en"):
            return value.value
        fallback = fallback or getattr(value, "value", "")
    return fallback


# ------------------------------------------------------------------------------------ contributions
class OxBase:
    """The cached closure in the snapshot store, as :class:`kgtool.rules.Closure` reads a ``base``.

    With ``exact`` (:func:`kgtool.shapes_fast.load_exact`), literals the store normalised come back as
    written (``"1"^^xsd:positiveInteger``, not ``"1"^^xsd:integer``), so inferences that carry them along
    hold the terms the files have."""

    def __init__(self, store, graphs: list, exact: dict | None = None) -> None:
        from .store import graph_terms

        self.store = store
        self.graphs = graph_terms(graphs)  # the asserted graph first
        self.exact = exact or {}

    def quads(self, s, p, o):
        for graph in self.graphs:
            yield from self.store.quads_for_pattern(s, p, o, graph)

    def has(self, s: str, p: str, o: str) -> bool:
        if s[0] == '"' or p[0] != "<":
            return False
        if may_change(o):  # the store finds a literal by value: "1"^^xsd:positiveInteger finds "1"^^xsd:integer
            return o in self.objects(s, p)
        return any(True for _ in self.quads(to_term(s), to_term(p), to_term(o)))

    def objects(self, s: str, p: str) -> set[str]:
        if s[0] == '"' or p[0] != "<":
            return set()
        found = {str(q.object) for q in self.quads(to_term(s), to_term(p), None)}
        return exact_objects(found, self.exact[s, p]) if (s, p) in self.exact else found

    def subjects(self, p: str, o: str) -> set[str]:
        return set(self.subjects_of(p, o))

    def subjects_of(self, p: str, o: str):
        """The subjects, one at a time (the first alone is cheap where thousands point to ``o``)."""
        if p[0] != "<":
            return iter(())
        return (str(q.subject) for q in self.quads(None, to_term(p), to_term(o)))

    def about(self, term: str) -> set[tuple[str, str, str]]:
        node = to_term(term)
        patterns = [(None, None, node)] + ([(node, None, None)] if term[0] != '"' else [])
        patterns += [(None, node, None)] if term[0] == "<" else []
        return self._triples(patterns)

    def outgoing(self, term: str) -> set[tuple[str, str, str]]:
        """The triples whose subject is ``term``."""
        return self._triples([(to_term(term), None, None)]) if term[0] != '"' else set()

    def _triples(self, patterns: list) -> set[tuple[str, str, str]]:
        found = set()
        for pattern in patterns:
            found |= {(str(q.subject), str(q.predicate), str(q.object)) for q in self.quads(*pattern)}
        pairs = {(s, p) for s, p, _o in found if (s, p) in self.exact}
        for s, p in pairs:
            objects = {o for s2, p2, o in found if (s2, p2) == (s, p)}
            found -= {(s, p, o) for o in objects}
            found |= {(s, p, o) for o in exact_objects(objects, self.exact[s, p])}
        return found

    def schema(self) -> list[tuple[str, str, str]]:
        """The triples the rules read as axioms (and the schema types the noise filter needs)."""
        wanted = " ".join(sorted(rules.SCHEMA_PREDICATES - {rules.SAME}))
        classes = " ".join(sorted(rules.CHARACTERISTICS | rules._SCHEMA_TYPES))
        query = (f"SELECT ?s ?p ?o WHERE {{ {{ VALUES ?p {{ {wanted} }} ?s ?p ?o }} UNION "
                 f"{{ VALUES ?o {{ {classes} }} ?s {RDF_TYPE} ?o BIND({RDF_TYPE} AS ?p) }} }}")
        rows = self.store.query(query, default_graph=[self.graphs[0]])
        return [(str(s), str(p), str(o)) for s, p, o in rows]


_INTEGER = "^^<http://www.w3.org/2001/XMLSchema#integer>"


def exact_objects(found: set[str], exact: list) -> set[str]:
    """Objects as N-Triples strings, each xsd:integer the store made of a literal in ``exact`` (the
    literals of this subject and predicate as written) put back as written."""
    written: dict[str, set[str]] = {}
    for literal in exact:
        try:
            written.setdefault(str(int(literal.value.strip())), set()).add(str(literal))
        except ValueError:  # not a number: the store kept it as it is
            continue
    out: set[str] = set()
    for o in found:
        number = o[1:o.rindex('"')] if o.endswith(_INTEGER) else None
        out |= written.get(number, {o}) if number is not None else {o}
    return out


_LITERAL_TERMS: dict[str, object] = {}


def to_term(text: str):
    import pyoxigraph as ox

    if text[0] == "<":
        return ox.NamedNode(text[1:-1])
    if text.startswith("_:"):
        return ox.BlankNode(text[2:])
    if text not in _LITERAL_TERMS:
        triple = next(iter(ox.parse(f"<urn:s> <urn:p> {text} .", format=ox.RdfFormat.N_TRIPLES)))
        _LITERAL_TERMS[text] = triple.object
    return _LITERAL_TERMS[text]


def read_contribution(paths: Sequence[Path]) -> list[tuple[str, str, str]]:
    return sorted({t for path in paths for t in parse_file(Path(path))})


def touches_schema(triples) -> bool:
    axioms = rules.SCHEMA_PREDICATES - {rules.SAME}
    return any(p in axioms or (p == rules.TYPE and o in rules.CHARACTERISTICS | rules._SCHEMA_TYPES)
               for _s, p, o in triples)


def check_contribution_fast(project: Project, paths: Sequence[Path]) -> Report:
    """SHACL results the contribution causes on the merged graph (see the module docstring)."""
    shapes = project_shapes(project)
    if shapes is None or locality_problem(shapes) is not None or not paths:
        raise InputError("the shapes use SHACL features the fast validator lacks: use kgtool validate")
    contribution = read_contribution(paths)
    snapshot = get_snapshot(project)
    exact = load_exact(snapshot.exact_literals_file)
    base = OxBase(snapshot.open(), snapshot.graphs(True), exact)
    added = [t for t in contribution if not base.has(*t)]
    if touches_schema(added):
        raise InputError("the contribution changes the ontology's axioms: use kgtool validate")
    inferred = rules.Closure(added, base=base, tbox_facts=base.schema()).run().inferred()
    focus = focus_nodes(base, added, inferred)
    before, after = neighbourhood_stores(base, focus, added, inferred, exact, reverse_predicates(shapes), shapes)
    keys = {_key(f) for f in findings(evaluate(shapes, before), before)}
    results = evaluate(shapes, after)
    caused = [f for f in findings(results, after) if _key(f) not in keys]
    return Report(", ".join(str(p) for p in paths), values_already_there(caused, results, base),
                  len(contribution))


def values_already_there(caused: list[Finding], results: list[Result], base: OxBase) -> list[Finding]:
    """One value too many: say which value data/ already has (as the finding's detail: the message stays
    the shape's, as pySHACL gives it). A second date for an event was told only what a date is, which did
    not say where the first one was."""
    from dataclasses import replace

    over = {(_plain(str(r.focus)), r.path) for r in results if r.component == "MaxCountConstraintComponent" and r.path}
    out = []
    for finding in caused:
        if (finding.focus, finding.path) in over and not finding.focus.startswith("_:"):
            had = sorted({q.object.value if hasattr(q.object, "language") else str(q.object)
                          for q in base.quads(to_term(f"<{finding.focus}>"), to_term(f"<{finding.path}>"), None)})
            if had:
                finding = replace(finding, detail=f"data/ already has {', '.join(had[:5])} for it: correct that "
                                                  "one, or leave this one out.")
        out.append(finding)
    return out


def _key(finding: Finding) -> tuple:
    source = finding.source_shape if not finding.source_shape.startswith("_:") else ""
    return finding.severity, finding.message, finding.focus, finding.path, finding.value, source


def focus_nodes(base: OxBase, added, inferred) -> set[str]:
    new = [*added, *inferred]
    nodes = {t for s, p, o in new for t in ((s, o) if p != rules.TYPE else (s,)) if t[0] in "<_"}
    changed = {s for s, p, _o in new if p == rules.TYPE}
    for node in changed:
        if node[0] in "<_":
            term = to_term(node)
            nodes |= {str(q.subject) for q in base.quads(None, None, term)}
            nodes |= {str(q.object) for q in base.quads(term, None, None) if str(q.object)[0] in "<_"
                      and str(q.predicate) != RDF_TYPE}
    nodes |= {o for s, p, o in new if s in changed and p != rules.TYPE and o[0] in "<_"}
    return nodes


def reverse_predicates(shapes) -> set[str]:
    """The predicates some shape follows backwards (inverse paths, targetObjectsOf): the only links
    into a focus node the shapes read. (A place named by a million events is not read a million times.)"""
    found: set[str] = set()
    stack = list(shapes)
    while stack:
        shape = stack.pop()
        if shape.path and shape.inverse:
            found.add(shape.path)
        found.update(shape.targets.get("targetObjectsOf", []))
        stack += shape.properties + [member for members in shape.ors for member in members]
    return found


def neighbourhood_stores(base: OxBase, focus: set[str], added, inferred, exact: dict, reverse: set[str],
                         shapes=None):
    """Two small stores: the focus nodes' neighbourhood as it is, and with the contribution added. With
    ``shapes``, only what they read of it: a focus node's triples of the predicates they read, and the
    classes of the values they check with sh:class (an actor that took part in thousands of events brings
    its thousands of inferred kzcn:participatedIn links otherwise, and their classes)."""
    import pyoxigraph as ox

    graph = ox.NamedNode(LOCAL)
    data = _neighbourhood_ntriples(base, focus, reverse, shapes)
    if data is None:
        data = _neighbourhood_quads(base, focus, reverse)
    stores = []
    for extra in ((), [*added, *inferred]):
        store = ox.Store()
        if isinstance(data, bytes):
            store.load(data, format=ox.RdfFormat.N_TRIPLES, to_graph=graph)
        else:
            store.extend(data)
        table = {key: list(values) for key, values in exact.items() if key[0] in focus}
        if extra:  # terms built one by one: loading text would rename the blank nodes
            store.extend([ox.Quad(to_term(s), to_term(p), to_term(o), graph) for s, p, o in extra])
            for s, p, o in extra:
                if o.endswith(NORMALISED_DATATYPES):
                    table.setdefault((s, p), []).append(to_term(o))
        stores.append(View(store, [LOCAL], focus, exact=table))
    return stores


def _neighbourhood_ntriples(base: OxBase, focus: set[str], reverse: set[str], shapes=None) -> bytes | None:
    """The neighbourhood (see :func:`_neighbourhood_quads`) as N-Triples, asked of the store in a few
    queries rather than a lookup per node (thousands of them for a contribution of a thousand triples);
    None when blank nodes are involved (their labels would not survive the text)."""
    import pyoxigraph as ox

    from .shapes_fast import class_checked, read_predicates

    if not focus or any(node[0] != "<" for node in focus):
        return None
    nodes = " ".join(sorted(focus))
    reads = read_predicates(shapes) if shapes is not None else None
    forwards, backwards = class_checked(shapes) if shapes is not None else (None, None)

    def construct(where: str) -> bytes:
        results = base.store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {where} }}", default_graph=base.graphs)
        return results.serialize(format=ox.RdfFormat.N_TRIPLES) or b""

    def among(terms) -> str:  # a FILTER, not a second VALUES: Oxigraph would join the two VALUES first
        return f"FILTER(?p IN ({', '.join(sorted(terms))}))" if terms is not None else ""

    own = construct(f"VALUES ?s {{ {nodes} }} ?s ?p ?o {among(reads and reads | {LABEL})}")
    into = construct(f"VALUES ?o {{ {nodes} }} ?s ?p ?o {among(reverse)}") if reverse else b""
    scratch = ox.Store()
    scratch.load(own + into, format=ox.RdfFormat.N_TRIPLES)
    if scratch.query("ASK { ?s ?p ?o FILTER(isBlank(?s) || isBlank(?o)) }"):
        return None
    outwards = f"{{ VALUES ?s {{ {nodes} }} ?s ?p ?x FILTER(isIRI(?x)) {among(forwards)} }}"
    inwards = f"{{ VALUES ?o {{ {nodes} }} ?x ?p ?o {among(backwards)} }}"
    linked = []
    if forwards is None or forwards or backwards:
        linked = [str(row[0]) for row in scratch.query(f"SELECT DISTINCT ?x WHERE {{ {outwards} UNION {inwards} }}")]
    types = construct(f"VALUES ?s {{ {' '.join(linked)} }} ?s {RDF_TYPE} ?o BIND({RDF_TYPE} AS ?p)") \
        if linked else b""
    hierarchy = construct(f"?s {SUBCLASS} ?o BIND({SUBCLASS} AS ?p)")
    return own + into + types + hierarchy


def _neighbourhood_quads(base: OxBase, focus: set[str], reverse: set[str]) -> set:
    """The focus nodes' own triples, the links into them along ``reverse``, the classes of the nodes at
    the other end of either, and the class hierarchy: one lookup at a time."""
    import pyoxigraph as ox

    graph = ox.NamedNode(LOCAL)
    quads = set()
    typed = set()
    backwards = [to_term(p) for p in sorted(reverse)]
    for node in focus:
        term = to_term(node)
        for q in base.quads(term, None, None):
            quads.add(ox.Quad(q.subject, q.predicate, q.object, graph))
            if not isinstance(q.object, ox.Literal):
                typed.add(q.object)
        for predicate in backwards:
            for q in base.quads(None, predicate, term):
                quads.add(ox.Quad(q.subject, q.predicate, q.object, graph))
                typed.add(q.subject)
    type_node = ox.NamedNode(RDF_TYPE[1:-1])
    for node in typed:
        quads |= {ox.Quad(q.subject, q.predicate, q.object, graph) for q in base.quads(node, type_node, None)}
    hierarchy = base.store.query(f"CONSTRUCT WHERE {{ ?s {SUBCLASS} ?o }}", default_graph=[base.graphs[0]])
    quads |= {ox.Quad(t.subject, t.predicate, t.object, graph) for t in hierarchy}
    return quads
