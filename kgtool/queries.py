"""The canned-query catalogue: ``queries/<name>.rq`` files with a ``#+`` YAML header (grlc style).

Header keys: ``summary`` (required), ``description``, ``tags`` (list), ``params`` (list of
``{name, type, required, default, enum, description}``) and ``example`` (a list of ``NAME=VALUE``
strings). Parameter types: ``iri``, ``string``, ``date``, ``year``, ``integer``. A bad header is an
error, not a warning. Values are checked against their type and turned into RDF terms that engines bind
to the query's ``?name`` variable; the query text is never edited.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from .errors import ProjectError, UsageError
from .namespaces import PREFIXES
from .terms import XSD, Term

PARAM_TYPES = ("iri", "string", "date", "year", "integer")
HEADER_KEYS = {"summary", "description", "tags", "params", "example"}
PARAM_KEYS = {"name", "type", "required", "default", "enum", "description"}
MAX_STRING = 1000
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
_VAR = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_DATE = re.compile(r"^([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?$")


class Param(NamedTuple):
    name: str
    type: str
    required: bool = False
    default: str | None = None
    enum: tuple[str, ...] = ()
    description: str = ""

    def to_term(self, raw: str) -> Term:
        """Check ``raw`` against the declared type and return it as an RDF term."""
        value = raw.strip() if self.type != "string" else raw
        if self.enum and value not in self.enum:
            raise UsageError(f"parameter {self.name!r}: {raw!r} is not one of: {', '.join(self.enum)}")
        try:
            return _CONVERTERS[self.type](value)
        except ValueError as exc:
            raise UsageError(f"parameter {self.name!r} ({self.type}): {exc}") from None


def _iri(value: str) -> Term:
    if ":" in value and not value.startswith(("http://", "https://", "urn:")):
        prefix, local = value.split(":", 1)
        if prefix in PREFIXES:
            value = PREFIXES[prefix] + local
    if not re.match(r"^(https?://[^/]+|urn:)", value) or _IRI_FORBIDDEN.search(value):
        raise ValueError(f"{value!r} is not an absolute http(s) IRI or a known prefixed name like place:almaty")
    return Term.iri(value)


def _string(value: str) -> Term:
    if len(value) > MAX_STRING:
        raise ValueError(f"longer than {MAX_STRING} characters")
    if any(ord(c) < 0x20 and c not in "\t" for c in value):
        raise ValueError("contains control characters")
    return Term.literal(value)


def _date(value: str) -> Term:
    match = _DATE.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a date: use YYYY-MM-DD, YYYY-MM or YYYY")
    year, month, day = match.groups()
    if month and not 1 <= int(month) <= 12:
        raise ValueError(f"{value!r}: month must be 01-12")
    if day:
        import datetime

        datetime.date(int(year), int(month), int(day))  # raises ValueError for 2021-02-30
        return Term.literal(value, XSD + "date")
    return Term.literal(value, XSD + ("gYearMonth" if month else "gYear"))


def _year(value: str) -> Term:
    if not re.fullmatch(r"[0-9]{1,4}", value):
        raise ValueError(f"{value!r} is not a year (1 to 4 digits)")
    return Term.literal(str(int(value)), XSD + "integer")


def _integer(value: str) -> Term:
    if not re.fullmatch(r"[+-]?[0-9]{1,18}", value):
        raise ValueError(f"{value!r} is not an integer")
    return Term.literal(str(int(value)), XSD + "integer")


_CONVERTERS = {"iri": _iri, "string": _string, "date": _date, "year": _year, "integer": _integer}


class Query(NamedTuple):
    name: str
    path: Path
    text: str
    summary: str
    description: str = ""
    tags: tuple[str, ...] = ()
    params: tuple[Param, ...] = ()
    example: tuple[str, ...] = ()
    form: str = "SELECT"  # SELECT | ASK | CONSTRUCT | DESCRIBE

    def bind(self, values: dict[str, str]) -> dict[str, Term]:
        """Typed terms for the given parameter values plus defaults; unknown or missing ones refused."""
        known = {p.name: p for p in self.params}
        for name in values:
            if name not in known:
                hint = f"its parameters are: {', '.join(known)}" if known else "it takes no parameters"
                raise UsageError(f"query {self.name!r} has no parameter {name!r}", hint=hint)
        bindings: dict[str, Term] = {}
        for param in self.params:
            raw = values.get(param.name, param.default)
            if raw is None:
                if param.required:
                    raise UsageError(f"query {self.name!r} needs parameter {param.name!r}",
                                     hint=f"add -p {param.name} VALUE ({param.type})")
                continue
            bindings[param.name] = param.to_term(str(raw))
        return bindings


def parse_query_file(path: Path) -> Query:
    """Read one .rq file and check its header; any problem is a ProjectError naming the file."""
    import yaml  # only the catalogue needs YAML

    where = f"{path}"
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ProjectError(f"{where}: not UTF-8 text (byte {exc.start})", hint="save the query as UTF-8") from None
    except OSError as exc:
        raise ProjectError(f"{where}: cannot read ({exc.strerror or exc})") from None
    header_lines = [line[2:].removeprefix(" ") for line in text.splitlines() if line.startswith("#+")]
    if not header_lines:
        raise ProjectError(f"{where}: no '#+' header", hint="add at least '#+ summary: ...'")
    try:
        header = yaml.safe_load("\n".join(header_lines))
    except yaml.YAMLError as exc:
        raise ProjectError(f"{where}: header is not valid YAML: {' '.join(str(exc).split())[:200]}") from None
    if not isinstance(header, dict):
        raise ProjectError(f"{where}: header must be a mapping of keys")
    unknown = set(header) - HEADER_KEYS
    if unknown:
        raise ProjectError(f"{where}: unknown header keys {sorted(unknown)}", hint=f"allowed: {sorted(HEADER_KEYS)}")
    summary = header.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        raise ProjectError(f"{where}: header needs a non-empty 'summary'")
    name = path.stem
    if not _NAME.match(name):
        raise ProjectError(f"{where}: query names are lower-case words joined by hyphens")
    body = strip_comments(text)
    params = tuple(_parse_param(where, raw, body) for raw in header.get("params") or [])
    if len({p.name for p in params}) != len(params):
        raise ProjectError(f"{where}: a parameter is declared twice")
    tags = header.get("tags") or []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ProjectError(f"{where}: 'tags' must be a list of words")
    example = header.get("example") or []
    if not isinstance(example, list):
        raise ProjectError(f"{where}: 'example' must be a list of NAME=VALUE strings")
    return Query(name=name, path=path, text=text, summary=summary.strip(),
                 description=str(header.get("description") or "").strip(), tags=tuple(tags),
                 params=params, example=tuple(str(e) for e in example), form=query_form(body))


def _parse_param(where: str, raw: object, body: str) -> Param:
    if not isinstance(raw, dict):
        raise ProjectError(f"{where}: each parameter is a mapping with name and type")
    unknown = set(raw) - PARAM_KEYS
    if unknown:
        raise ProjectError(f"{where}: unknown parameter keys {sorted(unknown)}")
    name, ptype = raw.get("name"), raw.get("type")
    if not isinstance(name, str) or not _VAR.match(name):
        raise ProjectError(f"{where}: parameter name {name!r} is not a SPARQL variable name")
    if ptype not in PARAM_TYPES:
        raise ProjectError(f"{where}: parameter {name!r} has type {ptype!r}", hint=f"use one of {PARAM_TYPES}")
    if not re.search(rf"[?$]{re.escape(name)}\b", body):
        raise ProjectError(f"{where}: parameter {name!r} is not used as ?{name} in the query")
    enum = raw.get("enum") or []
    if not isinstance(enum, list):
        raise ProjectError(f"{where}: 'enum' of {name!r} must be a list")
    default = raw.get("default")
    param = Param(name=name, type=ptype, required=bool(raw.get("required", False)),
                  default=None if default is None else str(default), enum=tuple(str(e) for e in enum),
                  description=str(raw.get("description") or ""))
    if param.default is not None:
        try:
            param.to_term(param.default)
        except UsageError as exc:
            raise ProjectError(f"{where}: default of {name!r} is invalid: {exc}") from None
    return param


def strip_comments(text: str) -> str:
    """Query text without comments, string literals or IRIs: what keyword checks may look at."""
    from .binding import MASK

    return MASK.sub(lambda m: " " if m.group(0).startswith("#") else '""', text)


def query_form(text: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the first of these keywords after the prologue."""
    body = re.sub(r"(?i)\b(PREFIX\s+\S*:\s*\"\"|BASE\s+\"\")", " ", strip_comments(text))
    match = re.search(r"(?i)(?<![\w:?$])(SELECT|ASK|CONSTRUCT|DESCRIBE)(?![\w:])", body)
    return match.group(1).upper() if match else "SELECT"


def runs_without_parameters(query: Query) -> bool:
    """A SELECT whose parameters are all optional or defaulted: what its web page shows when none are
    given, and what ``kgtool serve --warm`` and ``kgtool cache build --answers`` compute ahead."""
    return query.form == "SELECT" and all(p.default is not None or not p.required for p in query.params)


class Catalogue:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        files = sorted(directory.glob("*.rq"))
        if not files:
            raise ProjectError(f"{directory}: no .rq query files")
        self.queries = {q.name: q for q in (parse_query_file(f) for f in files)}

    def get(self, name: str) -> Query:
        try:
            return self.queries[name]
        except KeyError:
            import difflib

            close = difflib.get_close_matches(name, self.queries, n=3)
            hint = f"did you mean: {', '.join(close)}?" if close else "run `kgtool queries` to list them"
            raise UsageError(f"no canned query named {name!r}", hint=hint) from None

    def __iter__(self):
        return iter(self.queries.values())
