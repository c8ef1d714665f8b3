"""HTML documentation: the ontology (classes, properties, their shapes, examples from the data) and the
query catalogue (each query, its parameters, and its result on the bundled data).

Pages are self-contained (CSS inline, pictures as inline SVG, no external URL) and well-formed XML, so
they open from a folder, a CI artefact or a static host alike. A query that fails is shown as failing on
its page and reported, so a broken catalogue cannot build quietly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape

from rdflib import OWL, RDF, RDFS, BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection

from .canvas import html_page
from .errors import KgtoolError
from .hierarchy import label_of, superclasses
from .namespaces import ONTOLOGY, PREFIXES, shorten
from .project import Project

SH = Namespace(PREFIXES["sh"])
SKOS = Namespace(PREFIXES["skos"])
MAX_ROWS, EXAMPLES = 25, 3
NAV = ('<p class="nav"><a href="index.html">Overview</a> · <a href="ontology.html">Ontology</a> · '
       '<a href="queries.html">Queries</a> · <a href="void.ttl">VoID description</a></p>')
CSS = (".nav { margin-bottom: 1rem; } .def { font-size: 1.02rem; }\n"
       "ul.tree { list-style: none; padding-left: 1rem; }\n")
NONE = '<span class="muted">—</span>'


@dataclass
class Docs:
    files: dict[str, str] = field(default_factory=dict)  # file name -> text
    problems: list[str] = field(default_factory=list)


def build_docs(project: Project) -> Docs:
    from .loading import parse_files

    ontology = parse_files([project.ontology_file])
    shapes = parse_files([project.shapes_file])
    data = parse_files(project.data_files)
    docs = Docs()
    docs.files["ontology.html"] = ontology_page(ontology, shapes, data)
    docs.files["queries.html"] = queries_page(project, docs.problems)
    docs.files["index.html"] = index_page(project)
    from .void import render_void

    docs.files["void.ttl"] = render_void(project)
    return docs


# ---------------------------------------------------------------------------------------------- helpers
def _local(iri: object) -> str:
    return str(iri)[len(ONTOLOGY):]


def _ref(node: object, graph: Graph | None = None) -> str:
    """A project term as a link to its section; anything else as its prefixed name."""
    if isinstance(node, URIRef) and str(node).startswith(ONTOLOGY):
        return f'<a href="ontology.html#{escape(_local(node))}"><code>{escape(shorten(str(node)))}</code></a>'
    if isinstance(node, Literal):
        return escape(str(node))
    return f"<code>{escape(shorten(str(node)))}</code>"


def _refs(nodes, graph: Graph | None = None) -> str:
    return ", ".join(_ref(n, graph) for n in sorted(nodes, key=str)) or NONE


def _row(name: str, value: str) -> str:
    return f"<tr><th>{escape(name)}</th><td>{value}</td></tr>"


def _definition(graph: Graph, term: URIRef) -> str:
    text = graph.value(term, SKOS.definition) or graph.value(term, RDFS.comment)
    return escape(str(text)) if text is not None else '<span class="muted">no definition</span>'


# ---------------------------------------------------------------------------------------------- SHACL
def _path(shapes: Graph, path: object) -> str:
    inverse = shapes.value(path, SH.inversePath) if isinstance(path, BNode) else None
    return f"^{_ref(inverse)}" if inverse is not None else _ref(path)


def describe_constraint(shapes: Graph, node: object) -> str:
    """A SHACL shape's constraints in words: 'at least 2, each a kzcn:Actor — “message”'."""
    parts = []
    for prop, words in ((SH.minCount, "at least {}"), (SH.maxCount, "at most {}")):
        value = shapes.value(node, prop)
        if value is not None:
            parts.append(words.format(value))
    for cls in shapes.objects(node, SH["class"]):
        parts.append(f"each a {_ref(cls)}")
    for datatype in shapes.objects(node, SH.datatype):
        parts.append(f"typed {_ref(datatype)}")
    for kind in shapes.objects(node, SH.nodeKind):
        parts.append(f"node kind {_ref(kind)}")
    for pattern in shapes.objects(node, SH.pattern):
        parts.append(f"matching <code>{escape(str(pattern))}</code>")
    if shapes.value(node, SH.uniqueLang) == Literal(True):
        parts.append("one per language")
    for alternatives in shapes.objects(node, SH["or"]):
        options = [describe_constraint(shapes, option) for option in Collection(shapes, alternatives)]
        parts.append("either " + " or ".join(f"({o})" for o in options))
    for sparql in shapes.objects(node, SH.sparql):
        parts.append(f"rule: “{escape(str(shapes.value(sparql, SH.message) or 'SPARQL constraint'))}”")
    path = shapes.value(node, SH.path)
    text = (f"{_path(shapes, path)}: " if path is not None else "") + ", ".join(parts)
    if shapes.value(node, SH.severity) == SH.Warning:
        text += " (warning)"
    message = shapes.value(node, SH.message)
    return text + (f" — “{escape(str(message))}”" if message is not None and path is not None else "")


def _shape_block(shapes: Graph, shape: object) -> str:
    title = label_of(shapes, shape) if isinstance(shape, URIRef) else "shape"
    own = describe_constraint(shapes, shape)
    items = [own] if own else []
    items += [describe_constraint(shapes, p) for p in sorted(shapes.objects(shape, SH.property), key=str)]
    message = shapes.value(shape, SH.message)
    head = f"<b>{escape(title)}</b>" + (f": “{escape(str(message))}”" if message is not None else "")
    return head + "<ul>" + "".join(f"<li>{i}</li>" for i in items if i) + "</ul>"


# ---------------------------------------------------------------------------------------------- ontology
def ontology_page(ontology: Graph, shapes: Graph, data: Graph) -> str:
    supers = superclasses(ontology)
    classes = sorted(c for c in ontology.subjects(RDF.type, OWL.Class) if str(c).startswith(ONTOLOGY))
    props = sorted(p for kind in (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
                   for p in ontology.subjects(RDF.type, kind) if str(p).startswith(ONTOLOGY))
    parents = {c: sorted(p for p in ontology.objects(c, RDFS.subClassOf) if p in classes) for c in classes}
    tree = _class_tree(ontology, classes, parents)
    members: dict[URIRef, list] = {}
    for entity, cls in data.subject_objects(RDF.type):
        for above in supers.get(cls, {cls}):
            members.setdefault(above, []).append(entity)
    sections = [_class_section(ontology, shapes, data, c, parents, members.get(c, [])) for c in classes]
    sections += [_property_section(ontology, shapes, data, p) for p in props]
    sections.append(_other_shapes(shapes))
    title = label_of(ontology, URIRef(ONTOLOGY.rstrip("#")))
    definition = _definition(ontology, URIRef(ONTOLOGY.rstrip("#")))
    body = (f'{NAV}<h1>{escape(title)}</h1>\n<p class="def">{definition}</p>\n'
            f"<p>Namespace <code>{ONTOLOGY}</code>: {len(classes)} classes, {len(props)} properties. "
            "Constraints come from <code>ontology/shapes.ttl</code>; examples from <code>data/</code>.</p>\n"
            f"<h2>Classes</h2>\n{tree}\n<h2>Properties</h2>\n<p>{_refs(props)}</p>\n" + "\n".join(sections))
    return html_page(title, body, CSS)


def _other_shapes(shapes: Graph) -> str:
    """Node shapes that apply by the use of a property rather than to a class (e.g. every labelled thing)."""
    others = sorted({s for p in (SH.targetSubjectsOf, SH.targetObjectsOf) for s in shapes.subjects(p, None)}
                    - set(shapes.subjects(SH.targetClass, None)), key=str)
    items = []
    for shape in others:
        targets = [f"subjects of {_ref(t)}" for t in shapes.objects(shape, SH.targetSubjectsOf)]
        targets += [f"objects of {_ref(t)}" for t in shapes.objects(shape, SH.targetObjectsOf)]
        on = f'<span class="muted">(on {", ".join(targets)})</span>'
        items.append(f"<li>{_shape_block(shapes, shape)} {on}</li>")
    return (f'<section id="other-shapes"><h2>Shapes that apply by property</h2><ul>{"".join(items)}</ul>'
            "</section>")


def _class_tree(ontology: Graph, classes: list, parents: dict) -> str:
    children: dict[object, list] = {}
    for cls in classes:
        for parent in parents[cls] or [None]:
            children.setdefault(parent, []).append(cls)

    def render(node: object) -> str:
        kids = sorted(children.get(node, []), key=lambda c: label_of(ontology, c).lower())
        items = "".join(f"<li>{_ref(k)} {escape(label_of(ontology, k))}{render(k)}</li>" for k in kids)
        return f'<ul class="tree">{items}</ul>' if kids else ""

    return render(None)


def _examples(data: Graph, nodes: list) -> str:
    picks = sorted(set(nodes), key=lambda n: (label_of(data, n), str(n)))[:EXAMPLES]
    items = [f'{escape(label_of(data, n))} <code class="muted">{escape(shorten(str(n)))}</code>'
             for n in picks]
    return "; ".join(items) or '<span class="muted">none in the data</span>'


def _section(ontology: Graph, term: URIRef, rows: list[str]) -> str:
    return (f'<section id="{escape(_local(term))}"><h3>{escape(label_of(ontology, term))} '
            f"<code>{escape(shorten(str(term)))}</code></h3>\n"
            f'<p class="def">{_definition(ontology, term)}</p>\n<table>{"".join(rows)}</table></section>')


def _class_section(ontology: Graph, shapes: Graph, data: Graph, cls: URIRef, parents: dict,
                   members: list) -> str:
    external = [p for p in ontology.objects(cls, RDFS.subClassOf) if p not in parents[cls]]
    subclasses = [c for c, ps in parents.items() if cls in ps]
    disjoint = set(ontology.objects(cls, OWL.disjointWith)) | set(ontology.subjects(OWL.disjointWith, cls))
    lineage = [cls, *_ancestors(parents, cls)]
    blocks = []
    for owner in lineage:
        for shape in sorted(shapes.subjects(SH.targetClass, owner), key=str):
            note = "" if owner == cls else f' <span class="muted">(from {_ref(owner)})</span>'
            blocks.append(_shape_block(shapes, shape) + note)
    domain = sorted(ontology.subjects(RDFS.domain, cls))
    range_ = sorted(ontology.subjects(RDFS.range, cls))
    rows = [_row("subclass of", _refs(parents[cls])), _row("aligned with", _refs(external)),
            _row("subclasses", _refs(subclasses)), _row("disjoint with", _refs(disjoint)),
            _row("properties (domain)", _refs(domain)), _row("values of (range)", _refs(range_)),
            _row("shapes", "".join(f"<div>{b}</div>" for b in blocks) or NONE),
            _row(f"in the data ({len(set(members))})", _examples(data, members))]
    return _section(ontology, cls, rows)


def _ancestors(parents: dict, cls: object) -> list:
    seen: list = []
    todo = list(parents.get(cls, []))
    while todo:
        parent = todo.pop(0)
        if parent not in seen:
            seen.append(parent)
            todo += parents.get(parent, [])
    return seen


def _property_section(ontology: Graph, shapes: Graph, data: Graph, prop: URIRef) -> str:
    kinds = [shorten(str(t)).split(":")[1] for t in ontology.objects(prop, RDF.type)]
    inverse = set(ontology.objects(prop, OWL.inverseOf)) | set(ontology.subjects(OWL.inverseOf, prop))
    chain = [Collection(ontology, c) for c in ontology.objects(prop, OWL.propertyChainAxiom)]
    blocks = []
    for node in sorted(shapes.subjects(SH.path, prop), key=str):
        owners = list(shapes.subjects(SH.property, node)) or [node]
        targets = {t for o in owners for p in (SH.targetClass, SH.targetSubjectsOf)
                   for t in shapes.objects(o, p)}
        blocks.append(f'{describe_constraint(shapes, node)} <span class="muted">(on {_refs(targets)})</span>')
    triples = sorted(data.subject_objects(prop), key=lambda so: (label_of(data, so[0]), str(so[1])))
    examples = [f"{escape(label_of(data, s))} → {escape(label_of(data, o))}" for s, o in triples[:EXAMPLES]]
    rows = [_row("kind", escape(", ".join(sorted(kinds)))),
            _row("domain", _refs(ontology.objects(prop, RDFS.domain))),
            _row("range", _refs(ontology.objects(prop, RDFS.range))),
            _row("sub-property of", _refs(ontology.objects(prop, RDFS.subPropertyOf))),
            _row("inverse", _refs(inverse)),
            _row("chain", " / ".join(_ref(p) for c in chain for p in c) or NONE),
            _row("constraints", "<br/>".join(blocks) or NONE),
            _row(f"in the data ({len(triples)})", "<br/>".join(examples) or NONE)]
    return _section(ontology, prop, rows)


# ---------------------------------------------------------------------------------------------- queries
def queries_page(project: Project, problems: list[str]) -> str:
    from .run import load_catalogue

    catalogue = list(load_catalogue(project))
    toc = "".join(f'<li><a href="#{q.name}"><code>{q.name}</code></a> {escape(q.summary)}</li>'
                  for q in catalogue)
    sections = [_query_section(project, q, problems) for q in catalogue]
    body = (f"{NAV}<h1>Canned queries</h1>\n<p>{len(catalogue)} queries in <code>queries/</code>; each is "
            "run "
            "below on the bundled data, with the parameters of its example (<code>kgtool query NAME -p …"
            f"</code>).</p>\n<ul>{toc}</ul>\n" + "\n".join(sections))
    return html_page("Canned queries", body, CSS)


def _query_section(project: Project, query, problems: list[str]) -> str:
    from .run import run_canned

    values = dict(item.split("=", 1) for item in query.example if "=" in item)
    command = "kgtool query " + query.name + "".join(f" -p {k} {v}" for k, v in values.items())
    params = _table(("parameter", "type", "required", "default", "values", "description"),
                    [(f"<code>{escape(p.name)}</code>", p.type, "yes" if p.required else "no",
                      escape(p.default or ""), escape(", ".join(p.enum)), escape(p.description))
                     for p in query.params]) if query.params else '<p class="muted">No parameters.</p>'
    try:
        _query, result = run_canned(project, query.name, values)
        outcome = _result_html(result)
    except Exception as exc:  # one broken query is shown and reported, not fatal to the rest
        reason = str(exc) if isinstance(exc, KgtoolError) else f"{type(exc).__name__}: {exc}"
        problems.append(f"query {query.name}: {reason}")
        outcome = f"<p><b>This query failed:</b> {escape(reason)}</p>"
    tags = ", ".join(query.tags)
    return (f'<section id="{query.name}"><h2><code>{query.name}</code> — {escape(query.summary)}</h2>\n'
            f"<p>{escape(query.description)}</p>\n"
            + (f'<p class="muted">tags: {escape(tags)}</p>\n' if tags else "")
            + f"{params}\n<h3>Result of <code>{escape(command)}</code></h3>\n{outcome}\n"
            f"<details><summary>SPARQL</summary><pre>{escape(query.text)}</pre></details></section>")


def _term(term) -> str:
    if term is None:
        return ""
    if term.kind == "iri":
        return f"<code>{escape(shorten(term.value))}</code>"
    return escape(term.value)


def _result_html(result) -> str:
    from .terms import AskResult, GraphResult

    if isinstance(result, AskResult):
        return f"<p>{'yes' if result.value else 'no'}</p>"
    if isinstance(result, GraphResult):
        shown = "\n".join(result.ntriples[:MAX_ROWS])
        return f"<p>{len(result.ntriples)} triples.</p><pre>{escape(shown)}</pre>"
    table = _table([escape(v) for v in result.variables],
                   [[_term(t) for t in row] for row in result.rows[:MAX_ROWS]])
    more = len(result.rows) - MAX_ROWS
    note = f'<p class="muted">… and {more} more rows.</p>' if more > 0 else ""
    return f'<p>{len(result.rows)} rows.</p><div class="figure">{table}</div>{note}'


def _table(head, rows) -> str:
    """An HTML table from header cells and rows of cells, all already escaped."""
    cells = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return "<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + f"</tr>{cells}</table>"


# ---------------------------------------------------------------------------------------------- index
def index_page(project: Project) -> str:
    from .network import build_network
    from .network_picture import draw_network
    from .timeline import build_timeline, draw_timeline
    from .void import DESCRIPTION, TITLE, describe_dataset

    void = describe_dataset(project)
    from .void import DATASET, VOID

    counts = {name: void.value(DATASET, VOID[name]) for name in ("triples", "entities", "classes",
                                                                 "properties")}
    timeline = draw_timeline(build_timeline(project)).to_svg(standalone=False)
    network = draw_network(build_network(project)).to_svg(standalone=False)
    body = (f"{NAV}<h1>{escape(TITLE)}</h1>\n<p class=\"def\">{escape(DESCRIPTION)}</p>\n<ul>"
            + "".join(f"<li>{value} {name}</li>" for name, value in counts.items())
            + "</ul>\n<p>The <a href=\"ontology.html\">ontology</a> documents every class and property with "
            "its constraints and examples; the <a href=\"queries.html\">query catalogue</a> shows every "
            "canned query with its result.</p>\n"
            f"<h2>Timeline</h2>\n<div class=\"figure\">{timeline}</div>\n"
            f"<h2>Confucius Institutes</h2>\n<div class=\"figure\">{network}</div>")
    return html_page(TITLE, body, CSS)


def write_docs(docs: Docs, folder) -> list:
    """Write every page into ``folder`` (created if missing), each file atomically, after checking that
    every page can be written: a page whose name is taken by a folder stops the run before any is
    written, not half-way."""
    from pathlib import Path

    from .atomic import write_output
    from .errors import InputError

    target = Path(folder)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"{folder}: cannot create the folder ({exc.strerror})") from None
    for name in docs.files:
        if (target / name).exists() and not (target / name).is_file():
            raise InputError(f"{target / name}: is in the way (not a file)",
                             hint=f"remove it, or write the documentation into another folder than {folder}")
    written = []
    for name, text in docs.files.items():
        write_output(target / name, text)
        written.append(target / name)
    return written
