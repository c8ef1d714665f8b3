"""Generate realistic synthetic kgtool projects of 1e3 to 1e6 triples, in the project's own ontology.

The real data's shape, scaled up: copy 0 is the bundled data exactly (so the canned queries' example
parameters still name real things); copies 1, 2 … clone every actor, agreement, event, partnership,
programme, work, initiative, figure, source and reference under suffixed IRIs (``…-g17``) with suffixed
labels, while places and concepts stay shared, as in the real world (more events in Almaty, not more
Almatys). The concepts that figures measure are the exception: a larger world has more statistics, not
the same statistic stated in hundreds of articles (which made every pair of a figure's clones a
"disagreement": 1.15 million rows of figure-disagreements at 1e6). Actors taking part in many-to-many
relations (participant, organizer, member, party …) are sometimes those of an earlier copy, so the graph
is one network rather than islands. Every copy of conforming data conforms, so the generated graphs are
valid by construction.

Each output folder is a complete project (ontology/, data/, queries/), plus ``contribution.ttl`` (a
conforming ~1,000-triple contribution: one more copy) and ``contribution-bad.ttl`` (the same with four
known faults) for the validation benchmark.

    python benchmarks/generate.py --size 100000 --out benchmarks/out/1e5
"""

from __future__ import annotations

import argparse
import itertools
import random
import shutil
import sys
from collections import defaultdict
from pathlib import Path

import pyoxigraph as ox

REPO = Path(__file__).resolve().parents[1]
ID = "https://w3id.org/kzcn/id/"
KZCN = "https://w3id.org/kzcn/ontology#"
SHARED_KINDS = {"place", "concept"}
LABELS = {"http://www.w3.org/2000/01/rdf-schema#label", "http://www.w3.org/2004/02/skos/core#altLabel",
          "http://www.w3.org/2004/02/skos/core#prefLabel", "http://purl.org/dc/terms/title",
          KZCN + "roleTitle"}
CROSS_LINKED = {KZCN + p for p in ("participant", "organizer", "performer", "member", "party", "featured",
                                   "launchedBy", "beneficiary", "publisher", "producer")}
CROSS_KINDS = {"person", "organization"}
CROSS_RATE = 0.2
CONTRIBUTED_KINDS = ("event", "person", "figure", "agreement")
XSD = "http://www.w3.org/2001/XMLSchema#"
KINDS = ("person", "organization", "place", "agreement", "event", "series", "anniversary", "partnership",
         "program", "work", "initiative", "figure", "source", "position", "concept", "award")
PREFIXES = {**{kind: f"{ID}{kind}/" for kind in KINDS}, "kzcn": KZCN, "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
            "skos": "http://www.w3.org/2004/02/skos/core#", "dcterms": "http://purl.org/dc/terms/",
            "xsd": "http://www.w3.org/2001/XMLSchema#"}


def kind_of(iri: str) -> str | None:
    if not iri.startswith(ID):
        return None
    return iri[len(ID):].split("/", 1)[0]


def read_blocks(project: Path) -> dict[str, list[tuple[str, ox.NamedNode, object]]]:
    """The bundled data's triples grouped by subject (as N-Triples text), in file order."""
    blocks: dict[str, list] = defaultdict(list)
    for path in sorted((project / "data").glob("*.ttl")):
        for triple in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE, base_iri=path.resolve().as_uri()):
            blocks[str(triple.subject)].append((str(triple.predicate), triple.predicate.value, triple.object))
    return blocks


def measured(blocks) -> set[str]:
    """The concepts that figures measure (cloned in every copy, unlike the other concepts)."""
    return {o.value for triples in blocks.values() for _p, p_iri, o in triples
            if p_iri == KZCN + "measure" and isinstance(o, ox.NamedNode)}


def shared(iri: str, per_copy: set[str]) -> bool:
    return kind_of(iri) in SHARED_KINDS and iri not in per_copy


class Cloner:
    """Rewrites the bundled data into copy k: suffixed IRIs and labels, some links to earlier copies."""

    def __init__(self, seed: int, per_copy: set[str] = frozenset()) -> None:
        self.rng = random.Random(seed)
        self.cross: dict[tuple[int, str], int] = {}
        self.per_copy = per_copy

    def iri(self, value: str, k: int, predicate: str | None = None) -> str:
        kind = kind_of(value)
        if k == 0 or kind is None or shared(value, self.per_copy):
            return value
        if predicate in CROSS_LINKED and kind in CROSS_KINDS:
            j = self.cross.get((k, value))
            if j is None:
                j = self.rng.randrange(k) if self.rng.random() < CROSS_RATE else k
                self.cross[(k, value)] = j
            if j == 0:
                return value
            k = j
        return f"{value}-g{k}"

    def subject(self, text: str, k: int) -> str:
        if text.startswith("_:"):
            return f"{text}g{k}"
        return f"<{self.iri(text[1:-1], k)}>"

    def obj(self, term, predicate: str, k: int) -> str:
        if isinstance(term, ox.NamedNode):
            return f"<{self.iri(term.value, k, predicate)}>"
        if isinstance(term, ox.BlankNode):
            return f"_:{term.value}g{k}"
        if k and predicate in LABELS:
            return suffixed(term, k)
        return str(term)


def suffixed(literal: ox.Literal, k: int) -> str:
    if literal.language:
        return str(ox.Literal(f"{literal.value} {k}", language=literal.language))
    return str(ox.Literal(f"{literal.value} {k}", datatype=literal.datatype))


def shorten(nt: str) -> str:
    if not nt.startswith("<"):
        return nt.replace(f"^^<{XSD}", "^^xsd:")[:-1] if f"^^<{XSD}" in nt else nt
    iri = nt[1:-1]
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns):
            local = iri[len(ns):]
            if local and local.replace("-", "").replace("_", "").isalnum():
                return f"{prefix}:{local}"
    if iri == "http://www.w3.org/1999/02/22-rdf-syntax-ns#type":
        return "a"
    return nt


def turtle_block(subject: str, triples: list[tuple[str, str]]) -> str:
    lines = [shorten(subject)]
    for i, (p, o) in enumerate(triples):
        end = " ." if i == len(triples) - 1 else " ;"
        lines.append(f"    {shorten(p)} {shorten(o)}{end}")
    return "\n".join(lines) + "\n\n"


def header() -> str:
    return "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in PREFIXES.items()) + "\n"


def copy_blocks(blocks, cloner: Cloner, k: int):
    """Yield (kind, subject, [(p, o)]) for copy k."""
    for subject, triples in blocks.items():
        kind = kind_of(subject[1:-1]) if subject.startswith("<") else "blank"
        if k and shared(subject[1:-1], cloner.per_copy):
            continue
        new_subject = cloner.subject(subject, k)
        pairs = [(p_text, cloner.obj(o, p_iri, k)) for p_text, p_iri, o in triples]
        yield kind or "other", new_subject, pairs


def generate(size: int, out: Path, seed: int = 42, project: Path = REPO) -> dict[str, int]:
    blocks = read_blocks(project)
    cloner = Cloner(seed, measured(blocks))
    if out.exists():
        shutil.rmtree(out)
    (out / "data").mkdir(parents=True)
    for folder in ("ontology", "queries"):
        shutil.copytree(project / folder, out / folder)
    files: dict[str, object] = {}
    written = 0
    k = 0
    order = list(blocks)
    if size < sum(len(t) for t in blocks.values()):
        random.Random(seed).shuffle(order)
        blocks = {s: blocks[s] for s in order}
    while written < size:
        chosen = select(blocks, size - written, k, cloner.per_copy)
        for kind, subject, triples in copy_blocks(chosen, cloner, k):
            handle = files.get(kind)
            if handle is None:
                handle = files[kind] = (out / "data" / f"generated-{kind}.ttl").open("w", encoding="utf-8")
                handle.write(header())
            handle.write(turtle_block(subject, triples))
            written += len(triples)
        k += 1
    for handle in files.values():
        handle.close()
    contribution = write_contribution(blocks, k + 1000, out)
    return {"data_triples": written, "copies": k, "contribution_triples": contribution}


def select(blocks, budget: int, k: int, per_copy: set[str] = frozenset()):
    """The blocks of copy k to write: all of them, or when the budget ends inside this copy a prefix
    plus every block it refers to (so the last copy has no dangling links; copy 0 cut short, as in the
    1e3 graph, is a plain sample)."""
    own = [s for s in blocks if not (k and shared(s[1:-1], per_copy))]
    if sum(len(blocks[s]) for s in own) <= budget:
        return {s: blocks[s] for s in own}
    picked: list[str] = []
    total = 0
    for subject in own:
        if total >= budget:
            break
        picked.append(subject)
        total += len(blocks[subject])
    if k:
        seen, queue = set(picked), list(picked)
        while queue:
            for _p, _pi, o in blocks[queue.pop()]:
                ref = f"<{o.value}>" if isinstance(o, ox.NamedNode) else None
                if ref in blocks and ref not in seen and not shared(o.value, per_copy):
                    seen.add(ref)
                    queue.append(ref)
        picked = [s for s in own if s in seen]
    return {s: blocks[s] for s in picked}


def write_contribution(blocks, k: int, out: Path, size: int = 1000) -> int:
    """A conforming contribution of about ``size`` triples (new events, people, figures and agreements,
    referring to things already in the graph) and a faulty twin."""
    by_kind: dict[str, list[str]] = defaultdict(list)
    for subject in blocks:
        kind = kind_of(subject[1:-1])
        if kind in CONTRIBUTED_KINDS:
            by_kind[kind].append(subject)
    chosen: list[str] = []
    count = 0
    for group in itertools.zip_longest(*(by_kind[kind] for kind in CONTRIBUTED_KINDS)):
        for subject in filter(None, group):
            chosen.append(subject)
            count += len(blocks[subject])
        if count >= size:
            break
    renamed = {s[1:-1] for s in chosen}

    def term(node) -> str:
        if isinstance(node, ox.NamedNode) and node.value in renamed:
            return f"<{node.value}-g{k}>"
        return str(node)

    parts = [(kind_of(s[1:-1]), f"<{s[1:-1]}-g{k}>",
              [(p, suffixed(o, k) if p_iri in LABELS else term(o)) for p, p_iri, o in blocks[s]])
             for s in chosen]
    good = header() + "".join(turtle_block(s, t) for _k, s, t in parts)
    (out / "contribution.ttl").write_text(good, encoding="utf-8")
    (out / "contribution-bad.ttl").write_text(good + faults(parts), encoding="utf-8")
    return count


def faults(chosen) -> str:
    """Up to four faults a historian could make: no English label, end before start, a figure with two
    values, a participant that is not an actor."""
    event = next((s for kind, s, _t in chosen if kind == "event"), None)
    figure = next((s for kind, s, _t in chosen if kind == "figure"), None)
    text = ("<https://w3id.org/kzcn/id/person/nameless-contributor-g9> a kzcn:Person ;\n"
            '    rdfs:label "Безымянный"@ru .\n\n')
    if event:
        text += (f'{event} kzcn:startDate "2019-05-01"^^xsd:date ; kzcn:endDate "2018-05-01"^^xsd:date ;\n'
                 "    kzcn:participant <https://w3id.org/kzcn/id/place/nowhere-g9> .\n\n")
    if figure:
        text += f'{figure} kzcn:value "99"^^xsd:integer .\n'
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=float, required=True, help="data triples to generate, e.g. 1e5")
    parser.add_argument("--out", type=Path, required=True, help="output project folder (replaced)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    info = generate(int(args.size), args.out, args.seed)
    print(f"{args.out}: {info['data_triples']} data triples in {info['copies']} copies; "
          f"contribution {info['contribution_triples']} triples", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
