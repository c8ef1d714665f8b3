"""Input hygiene for contributed files: what is checked before any RDF parser sees a byte.

A contribution must be a local regular file (no URL, device, FIFO, socket or folder), at most
:data:`MAX_BYTES` long (and, once parsed, at most :data:`MAX_TRIPLES` triples: checking in context costs
time in proportion, about 10 s for 20,000 triples against a million), UTF-8 text (a UTF-8 byte-order mark
is dropped), not another format under a ``.ttl`` name (RDF/XML with entity definitions, HTML, JSON-LD, a
binary file), with brackets nested at most :data:`MAX_DEPTH` deep and no literal longer than
:data:`MAX_LITERAL_CHARS` characters; once parsed, no IRI longer than :data:`MAX_IRI_CHARS` and no language
tag longer than :data:`MAX_LANGUAGE_TAG_CHARS` (a prefixed name or a tag is as unbounded in Turtle as a
literal, and would reach every report, index and page).

Every refusal is an :class:`~kgtool.errors.InputError` (exit 2, "unusable input") whose message names the
file, where (byte offset, or line and column) and what to do. The file is opened once, non-blocking, and
checked with ``fstat`` on the open descriptor, so a path swapped for a FIFO between a check and the read
cannot block or fool the reader.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

MAX_BYTES = 1024 * 1024  # a contribution is a few entities; the whole bundled data is ~0.3 MiB
MAX_TRIPLES = 20_000  # checked after parsing; 1 MiB of ordinary Turtle holds about that many
MAX_DEPTH = 32  # nesting of [ ] and ( ); the bundled data uses none
MAX_LITERAL_CHARS = 20_000  # a label or a note, not a document
MAX_IRI_CHARS = 2_000  # the bundled data's longest is under 150
MAX_LANGUAGE_TAG_CHARS = 35  # what RFC 5646 (4.4.1) asks every implementation to accept

_URL = re.compile(r"^(?:[A-Za-z][A-Za-z0-9+.-]*://|(?:file|https?|ftp|data):)", re.IGNORECASE)
_MAGIC = (
    (b"\x89PNG", "a PNG image"),
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive (or .docx/.xlsx)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x7fELF", "an executable (ELF)"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"BZh", "a bzip2 archive"),
    (b"\xfd7zXZ", "an xz archive"),
    (b"\x28\xb5\x2f\xfd", "a zstd archive"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document"),
)
_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
    (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
    (b"\xff\xfe", "UTF-16 (little-endian)"),
    (b"\xfe\xff", "UTF-16 (big-endian)"),
)
_SAVE_AS_UTF8 = "save it as UTF-8 (in most editors: Save As… → Encoding: UTF-8) and try again"


_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """Text from a contribution made safe to print: control and bidi-override characters as \\uXXXX, so a
    hostile label can neither drive the terminal nor reorder what the report says."""
    return _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04X}", text)


@dataclass(frozen=True)
class SourceText:
    """A contribution that passed hygiene: its name as given, its UTF-8 bytes and its text."""

    path: Path
    name: str
    data: bytes
    text: str


def read_contribution(path: Path) -> SourceText:
    """Read and check one contributed file; raise InputError when it cannot be used."""
    name = printable(str(path))
    if _URL.match(name):
        raise InputError(f"{name}: URLs are not fetched", hint="download the file and pass the local copy")
    data = _read_regular_file(path, name)
    text = decode_utf8(data, name)
    data = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    text = text.removeprefix("\ufeff")
    refuse_other_formats(text, name)
    check_structure(text, name)
    return SourceText(path, name, data, text)


def _read_regular_file(path: Path, name: str) -> bytes:
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except PermissionError:
        raise InputError(f"{name}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot open ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        _refuse_non_regular(info.st_mode, name)
        if info.st_size > MAX_BYTES:
            raise _too_large(name, info.st_size)
        chunks, total = [], 0
        while total <= MAX_BYTES:
            chunk = os.read(fd, min(1 << 20, MAX_BYTES + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror})") from None
    finally:
        os.close(fd)
    if total > MAX_BYTES:
        raise _too_large(name, total)
    return b"".join(chunks)


def _refuse_non_regular(mode: int, name: str) -> None:
    if stat.S_ISREG(mode):
        return
    if stat.S_ISDIR(mode):
        raise InputError(f"{name}: is a folder, not a file", hint="pass the .ttl files in it one by one")
    kinds = (
        (stat.S_ISFIFO, "a named pipe (FIFO)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    kind = next((label for test, label in kinds if test(mode)), "not a regular file")
    raise InputError(f"{name}: is {kind}, not a regular file", hint="save the contribution to a .ttl file")


def check_triple_count(name: str, count: int) -> None:
    if count > MAX_TRIPLES:
        raise InputError(
            f"{name}: too large ({count:,} triples; a contribution may hold at most "
            f"{MAX_TRIPLES:,})",
            hint="split it into several smaller contributions",
        )


def check_term_sizes(origin: dict) -> None:
    """Refuse an IRI or a language tag beyond its limit; ``origin`` maps each triple to (file, line)."""
    for triple, (name, line) in origin.items():
        for term in triple:
            language = getattr(term, "language", None) or ""
            if len(language) > MAX_LANGUAGE_TAG_CHARS:
                raise InputError(
                    f"{name}:{line}: a language tag of {len(language):,} characters (at most "
                    f"{MAX_LANGUAGE_TAG_CHARS} allowed)",
                    hint="tag labels with the language alone: @en, @ru, @kk, @zh",
                )
            if not hasattr(term, "language") and len(term) > MAX_IRI_CHARS:
                raise InputError(
                    f"{name}:{line}: an IRI of {len(term):,} characters (at most {MAX_IRI_CHARS:,} allowed)",
                    hint="name entities with short slugs, as data/MODELLING.md shows",
                )


def _too_large(name: str, size: int) -> InputError:
    return InputError(
        f"{name}: too large ({size:,} bytes; a contribution may have at most {MAX_BYTES:,} bytes)",
        hint="split it into several smaller contributions",
    )


def decode_utf8(data: bytes, name: str) -> str:
    """The text of ``data``, or an InputError saying which encoding it looks like and where it fails."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            raise InputError(
                f"{name}: not UTF-8: it is {encoding} (byte-order mark at byte 0)", hint=_SAVE_AS_UTF8
            )
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise InputError(
                f"{name}: not a text file: it looks like {what}", hint="send a Turtle (.ttl) file"
            )
    nul = data.find(b"\x00")
    if nul >= 0:
        guess = _utf16_without_bom(data)
        if guess:
            raise InputError(
                f"{name}: not UTF-8: it looks like {guess} (NUL byte at byte {nul})", hint=_SAVE_AS_UTF8
            )
        raise InputError(
            f"{name}: not a text file: binary data (NUL byte at byte {nul})", hint="send a Turtle (.ttl) file"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _line_col_of_byte(data, exc.start)
        raise InputError(
            f"{name}: not UTF-8: invalid byte 0x{data[exc.start]:02X} at byte {exc.start} (line {line}, "
            f"column {column}); it looks like {guess_encoding(data)}",
            hint=_SAVE_AS_UTF8,
        ) from None


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:4096]
    even, odd = sample[0::2], sample[1::2]
    if len(sample) >= 4 and odd.count(0) > 0.4 * len(odd) and even.count(0) < 0.1 * len(even):
        return "UTF-16 (little-endian)"
    if len(sample) >= 4 and even.count(0) > 0.4 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "UTF-16 (big-endian)"
    return None


def guess_encoding(data: bytes) -> str:
    """A best guess at a legacy encoding, for the message only (Chinese, Cyrillic, Western European)."""
    high = [b for b in data if b >= 0x80]
    if not high:
        return "a 7-bit encoding with stray bytes"
    try:
        text = data.decode("gb18030")
        cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
        if cjk and cjk * 2 >= len(high) * 0.8:
            return "GB18030/GBK (Chinese)"
    except UnicodeDecodeError:
        pass
    text = data.decode("cp1251", errors="replace")
    cyrillic = sum(1 for ch in text if "\u0400" <= ch <= "\u04ff")
    # Cyrillic words are runs of high bytes; Western text has one accented letter among ASCII ones ("Café")
    in_runs = sum(1 for i, b in enumerate(data) if b >= 0x80 and (
        (i > 0 and data[i - 1] >= 0x80) or (i + 1 < len(data) and data[i + 1] >= 0x80)))
    if cyrillic >= 0.7 * len(high) and in_runs >= 0.5 * len(high):
        return "Windows-1251 (Cyrillic)"
    return "Latin-1 / Windows-1252 (Western European)"


def _line_col_of_byte(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    return line, len(data[start:offset].decode("utf-8", errors="replace")) + 1


def line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


_XML_START = re.compile(r"<\?xml|<!DOCTYPE|<!ENTITY|<!--|<rdf:RDF\b|<html\b", re.IGNORECASE)
_JSON_START = re.compile(r"\{\s*(?:\"|\})|\[\s*\{")


def refuse_other_formats(text: str, name: str) -> None:
    """Refuse XML (RDF/XML, with or without entity definitions), HTML and JSON-LD sent as Turtle."""
    head = text.lstrip()
    if _XML_START.match(head):
        raise InputError(
            f"{name}: this is XML or HTML (RDF/XML?), not Turtle; DOCTYPEs and entity definitions are never "
            "read",
            hint="convert it to Turtle, e.g. with `riot --output=turtle` or rdflib, and send the .ttl",
        )
    if _JSON_START.match(head):
        raise InputError(
            f"{name}: this is JSON (JSON-LD?), not Turtle", hint="convert it to Turtle and send the .ttl"
        )


# Tokens that matter for nesting and literal length. Strings, IRIs and comments are skipped whole so that
# brackets inside them do not count; backslash escapes outside strings (``:a\(``) are skipped too.
_SPECIAL = re.compile(r"[#<\"'\[\]()\\]")
_LONG = {
    '"': re.compile(r'"""((?:[^"\\]|\\.|"(?!""))*+)"""', re.S),
    "'": re.compile(r"'''((?:[^'\\]|\\.|'(?!''))*+)'''", re.S),
}
_SHORT = {'"': re.compile(r'"((?:[^"\\\r\n]|\\.)*+)"'), "'": re.compile(r"'((?:[^'\\\r\n]|\\.)*+)'")}
_IRI = re.compile(r"<[^<>\"{}|^`\\\x00-\x20]*+>")


def check_structure(text: str, name: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH and literals longer than MAX_LITERAL_CHARS, in linear time.

    The scan stops at the first thing that is not valid Turtle (an unterminated string or IRI): the strict
    parser reports that with its position, so a bad file never makes this scan slow.
    """
    depth, pos = 0, 0
    while (match := _SPECIAL.search(text, pos)) is not None:
        char, pos = match.group(), match.start()
        if char == "#":
            end = text.find("\n", pos)
            pos = len(text) if end < 0 else end
        elif char == "\\":
            pos += 2
        elif char == "<":
            iri = _IRI.match(text, pos)
            if iri is None:
                return
            pos = iri.end()
        elif char in "\"'":
            literal = _LONG[char].match(text, pos) or _SHORT[char].match(text, pos)
            if literal is None:
                return
            _check_literal(text, name, pos, len(literal.group(1)))
            pos = literal.end()
        else:
            depth = depth + 1 if char in "[(" else max(depth - 1, 0)
            if depth > MAX_DEPTH:
                line, column = line_col(text, pos)
                raise InputError(
                    f"{name}:{line}:{column}: brackets nested more than {MAX_DEPTH} deep",
                    hint="give nested things their own IRIs instead of [ … ] or ( … )",
                )
            pos += 1


def _check_literal(text: str, name: str, pos: int, length: int) -> None:
    if length > MAX_LITERAL_CHARS:
        line, column = line_col(text, pos)
        raise InputError(
            f"{name}:{line}:{column}: a literal of {length:,} characters (at most {MAX_LITERAL_CHARS:,} "
            "allowed)",
            hint="labels and notes are short; leave long texts in the source they come from",
        )
