"""kgtool's one Turtle writer (and its N-Triples and TriG), on N-Triples lines.

`kgtool export` writes Turtle, N-Triples and TriG from the snapshot's N-Triples files with this module (a
million triples in seconds, where rdflib needs minutes; rdflib only labels the few blank nodes
canonically). :func:`kgtool.export.serialize` turns an rdflib graph into the same lines and calls the same
functions, so both paths give the same bytes for the same triples. Literals are written as the source
files have them (the snapshot keeps the parser's lexical forms; an rdflib parse normalises some, e.g.
``"01"^^xsd:integer`` to ``"1"``). The writers work on the files' UTF-8 bytes, never decoded (sorting
UTF-8 orders by code point, as sorting str would).

The canonical Turtle form:

- ``@prefix`` lines for the prefixes of :data:`TURTLE_PREFIXES` the document uses, sorted by prefix, then
  a blank line; an IRI is written as a prefixed name when its local part is a plain local name
  (``[A-Za-z0-9_]``, with ``.`` and ``-`` inside), else in full;
- one block per subject, separated by blank lines: subject IRIs sorted by their N-Triples form
  (``<iri>``, code point order), then the blank nodes that need a label, sorted by label;
- in a block, ``a`` first, then ``rdfs:label``, then the other predicates sorted by IRI; the objects of a
  predicate sorted by their N-Triples form, the first on the predicate's line, the others each on a line
  of their own after ``,``; predicates end in `` ;`` and the block in `` .``;
- integers, decimals, doubles and booleans bare when the bare form reads back as the same lexical form;
  strings with a line break as long strings (triple quotes); other literals as in N-Triples, the datatype
  as a prefixed name when it has one;
- a blank node used once as an object is written in place, as ``[ … ]``, or as ``( … )`` when it is a
  well-formed RDF list; other blank nodes get canonical labels (rdflib's canonicalisation, so the same
  graph gives the same labels whichever parse produced it), as in the N-Triples output.

N-Triples: one line per triple, sorted, blank nodes canonically labelled. TriG: the ontology, the asserted
data and the inferences as three named graphs, each body in the Turtle form above indented by four
spaces, under one prefix block.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from .namespaces import BASE, PREFIXES
from .project import Project
from .snapshot import get_snapshot, parse_file

FAST_FORMATS = ("ttl", "nt", "trig", "nq")
#: The formats that keep the ontology, the data and the inferences apart, as named graphs.
DATASET_FORMATS = ("trig", "nq")
#: The prefixes Turtle and TriG use: the project's, and the vocabularies the ontology (vann) and `kgtool
#: stats --format ttl` (void) use besides. Fixed, so the output never depends on a parser's bindings.
TURTLE_PREFIXES = {**PREFIXES, "vann": "http://purl.org/vocab/vann/", "void": "http://rdfs.org/ns/void#"}
GRAPH_NAMES = {name: BASE + f"graph/{name}" for name in ("ontology", "asserted", "inferred")}

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_XSD = "http://www.w3.org/2001/XMLSchema#"
TYPE = f"<{_RDF}type>".encode()
LABEL = b"<http://www.w3.org/2000/01/rdf-schema#label>"
FIRST, REST, NIL = (f"<{_RDF}{name}>".encode() for name in ("first", "rest", "nil"))
_LOCAL = re.compile(rb"(?:[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_-])?)?")
#: Datatypes whose literals Turtle can write bare, with the lexical forms that parse back unchanged.
_BARE = {
    f"<{_XSD}integer>".encode(): re.compile(rb"[+-]?[0-9]+"),
    f"<{_XSD}decimal>".encode(): re.compile(rb"[+-]?[0-9]*\.[0-9]+"),
    f"<{_XSD}double>".encode(): re.compile(rb"[+-]?(?:[0-9]+\.[0-9]*|\.?[0-9]+)[eE][+-]?[0-9]+"),
    f"<{_XSD}boolean>".encode(): re.compile(rb"true|false"),
}
_ESCAPE = re.compile(rb"\\(.)")
_QUOTES = re.compile(rb'"(?="|\Z)')  # quotes a long string must escape: before a quote, at the end
_INDENT = b"    "


# ------------------------------------------------------------------------------------------ the project
def export_fast(project: Project, fmt: str = "ttl", inferred: bool = False, data_only: bool = False) -> str:
    """The project's triples as Turtle (``ttl``), N-Triples (``nt``), or TriG (``trig``) or N-Quads (``nq``),
    which always have the inferences, in their own graph (and leave out the ontology's graph if
    ``data_only``), as `kgtool export` writes them."""
    return export_bytes(project, fmt, inferred=inferred, data_only=data_only).decode("utf-8")


def export_bytes(project: Project, fmt: str = "ttl", inferred: bool = False, data_only: bool = False) -> bytes:
    """:func:`export_fast` as UTF-8 bytes (a large export is never held as a str)."""
    return b"".join(export_chunks(project, fmt, inferred=inferred, data_only=data_only))


def export_chunks(project: Project, fmt: str = "ttl", inferred: bool = False,
                  data_only: bool = False) -> Iterator[bytes]:
    """:func:`export_bytes` in pieces, for a writer: N-Quads a graph at a time, so that only one graph's
    lines are in memory (TriG's prefixes, which come first, are known only once every graph is written)."""
    if fmt in DATASET_FORMATS:
        graphs = dataset_lines(project)
        graphs = graphs[1:] if data_only else graphs
        if fmt == "nq":
            yield from nquads_chunks(graphs)
        else:
            yield trig(graphs)
        return
    lines = project_lines(project, inferred=inferred, data_only=data_only)
    yield ntriples(lines) if fmt == "nt" else turtle(lines)


def inferences_bytes(project: Project, fmt: str = "ttl") -> bytes:
    """The OWL RL inferences only (`kgtool reason`), as Turtle or N-Triples."""
    lines = read_lines(get_snapshot(project).inferred_file)
    return ntriples(lines) if fmt == "nt" else turtle(lines)


class Lines:
    """Triples as N-Triples lines (``s p o``, no final `` .``): those without blank nodes apart from the
    few with, which are relabelled and written in place (and need no scan of the million others)."""

    def __init__(self, plain: list[bytes] | None = None, blank: list[bytes] | None = None) -> None:
        self.plain = plain if plain is not None else []
        self.blank = blank if blank is not None else []

    @classmethod
    def of(cls, lines: Iterable[bytes]) -> Lines:
        plain, blank = [], []
        for line in lines:
            (blank if b"_:" in line and _has_blank(line) else plain).append(line)
        return cls(plain, blank)

    def __iadd__(self, other: Lines) -> Lines:
        self.plain += other.plain
        self.blank += other.blank
        return self


def project_lines(project: Project, inferred: bool = False, data_only: bool = False) -> Lines:
    """Ontology + data, or the data alone, plus the inferences if asked."""
    lines = data_lines(project) if data_only else read_lines(get_snapshot(project).asserted_file)
    if inferred:
        lines += read_lines(get_snapshot(project).inferred_file)
    return lines


def dataset_lines(project: Project) -> list[tuple[str, Callable[[], Lines]]]:
    """(graph IRI, a function giving its triples) of the ontology, the asserted data and the inferences:
    :func:`trig` loads each graph when it comes to it, so only one is in memory at a time."""
    ontology = file_lines([project.ontology_file])
    return [(GRAPH_NAMES["ontology"], lambda: ontology),
            (GRAPH_NAMES["asserted"], lambda: data_lines(project, ontology)),
            (GRAPH_NAMES["inferred"], lambda: read_lines(get_snapshot(project).inferred_file))]


def data_lines(project: Project, ontology: Lines | None = None) -> Lines:
    """The triples of ``data/*.ttl`` that the ontology does not state too.

    The snapshot's asserted triples without the ontology's, when the data has no blank nodes (the policy
    allows instance IRIs only): every parse labels blank nodes anew, so the ontology's blank nodes
    (property chains, lists) cannot be subtracted by their labels, but then every asserted triple with a
    blank node is the ontology's. Otherwise the data files are parsed (a few seconds at a million)."""
    if ontology is None:
        ontology = file_lines([project.ontology_file])
    stated = set(ontology.plain)
    asserted = read_lines(get_snapshot(project).asserted_file)
    if len(set(asserted.blank)) == len(set(ontology.blank)):  # the data adds no triple with a blank node
        return Lines([line for line in asserted.plain if line not in stated])
    del asserted
    data = file_lines(project.data_files)  # a blank node of the data is never one of the ontology's
    data.plain = [line for line in data.plain if line not in stated]
    return data


def file_lines(paths: Iterable[Path]) -> Lines:
    """The triples of Turtle files (parsed by pyoxigraph, blank nodes labelled anew)."""
    lines = Lines()
    plain, blank = lines.plain.append, lines.blank.append
    for path in paths:
        for s, p, o in parse_file(path):
            (blank if s[0] == "_" or o[0] == "_" else plain)(f"{s} {p} {o}".encode())
    return lines


def read_lines(path: Path, chunk_size: int = 1 << 24) -> Lines:
    """The triples of a snapshot N-Triples file (one ``s p o .`` per line), read in chunks so the file is
    never in memory beside its lines."""
    lines = Lines()
    rest = b""
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(chunk_size)
            if not chunk:
                break
            chunk = rest + chunk
            cut = chunk.rfind(b"\n") + 1
            rest = chunk[cut:]
            _add_lines(chunk[:cut], lines)
    if rest:
        _add_lines(rest + b"\n", lines)
    return lines


def _add_lines(part: bytes, lines: Lines) -> None:
    """Split whole ``s p o .`` lines; the few with a blank node are found at C speed and set apart."""
    plain = part.split(b" .\n")
    plain.pop()  # after the last line
    if b"_:" in part:
        found = []
        index = counted = 0
        pos = part.find(b"_:")
        while pos != -1:
            begin = part.rfind(b"\n", 0, pos) + 1
            index += part.count(b"\n", counted, begin)
            counted = begin
            if _has_blank(plain[index]):
                found.append(index)
            pos = part.find(b"_:", part.find(b"\n", pos) + 1)
        lines.blank += [plain[i] for i in found]
        for i in reversed(found):  # order does not matter: the writers sort
            plain[i] = plain[-1]
            plain.pop()
    lines.plain += plain


# ------------------------------------------------------------------------------------------ blank nodes
def _has_blank(line: bytes) -> bool:
    if line[0] == 95:  # "_": the subject is a blank node
        return True
    return line.split(b" ", 2)[2][0] == 95


def canonical_labels(blank: list[bytes]) -> list[bytes]:
    """The lines (each with a blank node) with every blank node relabelled canonically, sorted.

    rdflib's canonicalisation (:func:`rdflib.compare.to_canonical_graph`) labels each blank node by a hash
    of what surrounds it, so the same graph gets the same labels however it was parsed. Literals are
    replaced by placeholder IRIs on the way (rdflib would normalise ``"01"^^xsd:integer`` to ``"1"``)."""
    if not blank:
        return []
    import hashlib

    import pyoxigraph as ox
    from rdflib import Graph
    from rdflib.compare import to_canonical_graph

    literals: dict[bytes, bytes] = {}
    masked = []
    for line in blank:
        s, p, o = line.split(b" ", 2)
        if o[0] == 34:  # '"'
            placeholder = b"<urn:kgtool:literal:" + hashlib.sha256(o).hexdigest().encode() + b">"
            literals[placeholder] = o
            o = placeholder
        masked.append(b"%s %s %s .\n" % (s, p, o))
    graph = Graph().parse(data=b"".join(masked).decode("utf-8"), format="nt")
    canonical = to_canonical_graph(graph).serialize(format="nt", encoding="utf-8")
    relabelled = set()
    for t in ox.parse(canonical, format=ox.RdfFormat.N_TRIPLES):
        o = str(t.object).encode()
        relabelled.add(b"%s %s %s" % (str(t.subject).encode(), str(t.predicate).encode(), literals.get(o, o)))
    return sorted(relabelled)


# ------------------------------------------------------------------------------------------ N-Triples
def ntriples(lines: Lines | list[bytes]) -> bytes:
    """Sorted N-Triples, blank nodes canonically labelled (the lists are reordered)."""
    if not isinstance(lines, Lines):
        lines = Lines.of(lines)
    every = lines.plain
    every += canonical_labels(lines.blank)
    every.sort()
    out = _distinct(every)
    out.append(b"")
    return b" .\n".join(out)


def _distinct(ordered: list[bytes]) -> list[bytes]:
    """The sorted lines without repeats."""
    out = []
    previous = None
    for line in ordered:
        if line != previous:
            out.append(line)
            previous = line
    return out


# ------------------------------------------------------------------------------------------ Turtle
class _Terms:
    """Writes terms in Turtle, remembering which prefixes it used."""

    def __init__(self, prefixes: dict[str, str]) -> None:
        self.prefixes = prefixes
        # a namespace with two prefixes gets the first by name
        by_namespace = {ns.encode(): p.encode() for p, ns in sorted(prefixes.items(), reverse=True)}
        self.split = {ns: p for ns, p in by_namespace.items() if ns.endswith((b"/", b"#"))}
        self.other = sorted(((ns, p) for ns, p in by_namespace.items() if ns not in self.split),
                            key=lambda kv: -len(kv[0]))
        self.used: set[bytes] = set()
        self.cache: dict[bytes, bytes] = {}

    def iri(self, term: bytes) -> bytes:
        short = self.cache.get(term)
        if short is not None:
            return short
        short = self._shorten(term)
        if short is not term:
            self.used.add(short[: short.index(b":")])
        self.cache[term] = short
        return short

    def _shorten(self, term: bytes) -> bytes:
        iri = term[1:-1]
        cut = max(iri.rfind(b"/"), iri.rfind(b"#")) + 1
        prefix = self.split.get(iri[:cut])
        if prefix is not None and _LOCAL.fullmatch(iri, cut):
            return prefix + b":" + iri[cut:]
        for ns, prefix in self.other:  # namespaces that do not end in / or # (none of the project's)
            if iri.startswith(ns) and _LOCAL.fullmatch(iri, len(ns)):
                return prefix + b":" + iri[len(ns):]
        return term

    def literal(self, term: bytes) -> bytes:
        if term[-1] == 62:  # ">": a typed literal
            lexical, _, datatype = term.rpartition(b"^^")
            bare = _BARE.get(datatype)
            if bare is not None and bare.fullmatch(lexical, 1, len(lexical) - 1):
                return lexical[1:-1]
            return _long(lexical) + b"^^" + self.iri(datatype)
        if b"\\n" in term:
            end = term.rindex(b'"')
            return _long(term[: end + 1]) + term[end + 1:]
        return term

    def prefix_lines(self) -> bytes:
        used = sorted(p.decode() for p in self.used)
        return "".join(f"@prefix {p}: <{self.prefixes[p]}> .\n" for p in used).encode()


def _long(quoted: bytes) -> bytes:
    """A quoted N-Triples string with a line break as a long Turtle string (other escapes kept)."""
    if b"\\n" not in quoted:
        return quoted
    body = _ESCAPE.sub(_unescape, quoted[1:-1])
    if b"\n" not in body:  # the "\\n" was an escaped backslash before an n
        return quoted
    return b'"""' + _QUOTES.sub(rb'\\"', body) + b'"""'


def _unescape(match: re.Match) -> bytes:
    char = match.group(1)
    return b"\n" if char == b"n" else b'"' if char == b'"' else match.group(0)


def _group(groups: list[tuple[bytes, list[bytes]]], p: bytes) -> list[bytes]:
    """A new group for predicate ``p`` in a subject's groups, its list of objects returned. Predicates come
    in sorted order and go at the end, except rdf:type (first) and rdfs:label (after it)."""
    objects: list[bytes] = []
    if p == TYPE:
        groups.insert(0, (p, objects))
    elif p == LABEL:
        groups.insert(1 if groups and groups[0][0] == TYPE else 0, (p, objects))
    else:
        groups.append((p, objects))
    return objects


class _Writer:
    """Turtle blocks from triples. The lines with blank nodes are relabelled and those whose subject is a
    blank node kept apart, so that a blank node used once is written where it is used."""

    def __init__(self, lines: Lines, terms: _Terms, margin: bytes = b"", relabel: bool = True) -> None:
        self.terms = terms
        self.margin = margin  # before every line (TriG indents graph bodies)
        self.plain = lines.plain
        #: blank node -> [(predicate, [objects])], in the order of :func:`_group`
        self.blank: dict[bytes, list[tuple[bytes, list[bytes]]]] = {}
        uses: dict[bytes, int] = {}
        current = (b"", b"")
        objects: list[bytes] = []
        for line in canonical_labels(lines.blank) if relabel else sorted(set(lines.blank)):
            s, p, o = line.split(b" ", 2)
            if o[0] == 95:
                uses[o] = uses.get(o, 0) + 1
            if s[0] != 95:
                self.plain.append(line)
            elif (s, p) == current:
                objects.append(o)
            else:
                current = (s, p)
                objects = _group(self.blank.setdefault(s, []), p)
                objects.append(o)
        self.plain.sort()
        #: blank nodes written in place where they are used (used once, as an object)
        self.inline = {node for node, count in uses.items() if count == 1}
        self.written: set[bytes] = set()

    def blocks(self) -> Iterable[bytes]:
        subject = predicate = previous = None
        groups: list[tuple[bytes, list[bytes]]] = []
        objects: list[bytes] = []
        for line in self.plain:
            if line == previous:
                continue
            previous = line
            s, p, o = line.split(b" ", 2)
            if s != subject:
                if subject is not None:
                    yield self.block(subject, groups)
                subject, groups, predicate = s, [], None
            if p != predicate:  # _group(groups, p), inline: this runs for every predicate of every subject
                predicate = p
                objects = []
                if p == TYPE:
                    groups.insert(0, (p, objects))
                elif p == LABEL:
                    groups.insert(1 if groups and groups[0][0] == TYPE else 0, (p, objects))
                else:
                    groups.append((p, objects))
            objects.append(o)
        if subject is not None:
            yield self.block(subject, groups)
        blank = self.blank
        for node in sorted(node for node in blank if node not in self.inline):
            self.written.add(node)
            yield self.block(node, blank[node])
        while True:  # blank nodes used once but only inside a cycle of such nodes: label the first
            left = sorted(node for node in self.inline if node not in self.written and node in blank)
            if not left:
                break
            self.inline.discard(left[0])
            self.written.add(left[0])
            yield self.block(left[0], blank[left[0]])

    def block(self, subject: bytes, groups: list[tuple[bytes, list[bytes]]]) -> bytes:
        head = self.terms.iri(subject) if subject[0] == 60 else subject
        return self.margin + head + b" " + self.predicates(groups, 1) + b" .\n"

    def predicates(self, groups: list[tuple[bytes, list[bytes]]], depth: int) -> bytes:
        terms = self.terms
        cache = terms.cache
        indent = self.margin + _INDENT * depth
        between = b",\n" + indent + _INDENT
        parts = []
        for p, objects in groups:
            verb = b"a" if p == TYPE else cache.get(p) or terms.iri(p)
            if len(objects) == 1:
                o = objects[0]
                parts.append(verb + b" " + (cache.get(o) or self.object(o, depth)))
            else:
                parts.append(verb + b" " + between.join([cache.get(o) or self.object(o, depth) for o in objects]))
        return (b" ;\n" + indent).join(parts)

    def object(self, term: bytes, depth: int) -> bytes:
        first = term[0]
        if first == 34:  # '"'
            return self.terms.literal(term)
        if first == 60:  # "<"
            return self.terms.iri(term)
        if term not in self.inline or term in self.written:
            return term
        self.written.add(term)
        groups = self.blank.get(term)
        if not groups:
            return b"[]"
        items = self.collection(term)
        if items is not None:
            return b"( " + b" ".join([self.object(item, depth + 1) for item in items]) + b" )"
        return b"[ " + self.predicates(groups, depth + 1) + b" ]"

    def collection(self, head: bytes) -> list[bytes] | None:
        """The items of the well-formed RDF list starting at ``head`` (each node: only rdf:first and
        rdf:rest, one value each, used once), else None."""
        items = []
        node = head
        seen = set()
        while node != NIL:
            groups = self.blank.get(node)
            if (node in seen or node[0] != 95 or (node != head and (node not in self.inline or node in self.written))
                    or not groups or len(groups) != 2 or groups[0][0] != FIRST or groups[1][0] != REST
                    or len(groups[0][1]) != 1 or len(groups[1][1]) != 1):
                return None
            seen.add(node)
            items.append(groups[0][1][0])
            node = groups[1][1][0]
        self.written.update(seen)
        return items


def turtle(lines: Lines | list[bytes], prefixes: dict[str, str] | None = None) -> bytes:
    """The canonical Turtle document of the triples (the lists are reordered)."""
    terms = _Terms(TURTLE_PREFIXES if prefixes is None else prefixes)
    body = b"\n".join(_Writer(lines if isinstance(lines, Lines) else Lines.of(lines), terms).blocks())
    if not body:
        return b""
    return terms.prefix_lines() + b"\n" + body


def trig(graphs: list[tuple[str, Lines | list[bytes] | Callable[[], Lines]]],
         prefixes: dict[str, str] | None = None) -> bytes:
    """A TriG document: one prefix block, then each named graph's triples (or a function giving them) in
    the Turtle form (indented), in the order given. Blank-node labels are canonical per graph, made
    distinct across graphs."""
    terms = _Terms(TURTLE_PREFIXES if prefixes is None else prefixes)
    bodies = []
    for name, lines in _named_graphs(graphs):
        body = b"\n".join(_Writer(lines, terms, margin=_INDENT, relabel=False).blocks())
        bodies.append(b"<" + name.encode() + b"> {\n" + (body or b"\n") + b"}\n")
        del lines, body  # before the next graph is loaded
    return terms.prefix_lines() + b"\n" + b"\n".join(bodies)


def nquads(graphs: list[tuple[str, Lines | list[bytes] | Callable[[], Lines]]]) -> bytes:
    """An N-Quads document of the same named graphs as :func:`trig`: each graph's sorted N-Triples lines
    with its name, in the order given, for loaders that take a line per quad."""
    return b"".join(nquads_chunks(graphs))


def nquads_chunks(graphs: list[tuple[str, Lines | list[bytes] | Callable[[], Lines]]]) -> Iterator[bytes]:
    """:func:`nquads`, a graph at a time."""
    for name, lines in _named_graphs(graphs):
        every = lines.plain
        every += lines.blank
        every.sort()
        suffix = b" <" + name.encode() + b"> .\n"
        if every:
            yield suffix.join(_distinct(every)) + suffix
        del lines, every


def _named_graphs(graphs: list[tuple[str, Lines | list[bytes] | Callable[[], Lines]]]) -> Iterable[tuple[str, Lines]]:
    """Each graph's lines, loaded when it comes to it, its blank nodes labelled canonically and apart from
    those of the graphs before it (in a dataset a label names one node across graphs)."""
    taken: set[bytes] = set()
    for number, (name, lines) in enumerate(graphs, 1):
        if callable(lines):
            lines = lines()
        if not isinstance(lines, Lines):
            lines = Lines.of(lines)
        lines.blank = _distinct_labels(canonical_labels(lines.blank), taken, b"_g%d" % number)
        yield name, lines


def _distinct_labels(blank: list[bytes], taken: set[bytes], suffix: bytes) -> list[bytes]:
    """Rename (label + ``suffix``) the blank nodes whose canonical label an earlier graph of the document
    used (in TriG a label names one node across graphs), and add this graph's labels to ``taken``."""
    mine = set()
    for line in blank:
        s, _p, o = line.split(b" ", 2)
        mine.update(t for t in (s, o) if t[0] == 95)
    clash = mine & taken
    if clash:
        rename = {label: label + suffix for label in clash}
        renamed = []
        for line in blank:
            s, p, o = line.split(b" ", 2)
            renamed.append(b"%s %s %s" % (rename.get(s, s), p, rename.get(o, o)))
        blank = renamed
        mine = (mine - clash) | set(rename.values())
    taken.update(mine)
    return blank
