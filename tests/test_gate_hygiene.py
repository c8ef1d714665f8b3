"""Input hygiene: hostile and unusable files are refused before parsing, with exit 2, a one-line message
that says what the file is and what to do, no traceback, and data/ unchanged byte for byte."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gate_helpers import CONTRIBUTIONS, data_digest, shared_project
from helpers import run_cli
from kgtool import hygiene

VALID = (CONTRIBUTIONS / "valid-concert.ttl").read_text(encoding="utf-8")
CYRILLIC = "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n# Культурные связи Казахстана и Китая\n"
CHINESE = "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n# 哈萨克斯坦与中国的文化关系\n"
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="https://w3id.org/kzcn/id/place/almaty"><note>&lol3;</note></rdf:Description>
</rdf:RDF>
"""

HOSTILE: dict[str, tuple[bytes, str]] = {
    "png.ttl": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "not a text file: it looks like a PNG image"),
    "zip.ttl": (b"PK\x03\x04" + b"\x00" * 40, "it looks like a ZIP archive"),
    "nul.ttl": (
        VALID.encode()[:200] + b"\x00\x01\x02" + VALID.encode()[200:],
        "binary data (NUL byte at byte 200)",
    ),
    "utf16-bom.ttl": (VALID.encode("utf-16"), "not UTF-8: it is UTF-16 (little-endian)"),
    "utf16-be-no-bom.ttl": (VALID.encode("utf-16-be"), "it looks like UTF-16 (big-endian)"),
    "utf32.ttl": (VALID.encode("utf-32"), "it is UTF-32 (little-endian)"),
    "cp1251.ttl": (CYRILLIC.encode("cp1251"), "it looks like Windows-1251 (Cyrillic)"),
    "gbk.ttl": (CHINESE.encode("gbk"), "it looks like GB18030/GBK (Chinese)"),
    "latin1.ttl": (b"# Caf\xe9 \xe0 Almaty\n", "invalid byte 0xE9 at byte 5 (line 1, column 6)"),
    # "Caf\xe9" is "Cafй" in Windows-1251 too; a lone accented letter among ASCII ones is Western
    "latin1-guess.ttl": (b'# Caf\xe9 na\xefve\n', "it looks like Latin-1 / Windows-1252 (Western European)"),
    "rdfxml-entities.ttl": (BILLION_LAUGHS.encode(), "this is XML or HTML (RDF/XML?), not Turtle"),
    "html.ttl": (b"<html><body>not turtle</body></html>", "this is XML or HTML"),
    "jsonld.ttl": (b'{"@context": {}, "@id": "x"}', "this is JSON (JSON-LD?), not Turtle"),
    "nested.ttl": (
        b"@prefix : <https://w3id.org/kzcn/id/place/> .\n:a :b " + b"[ :c " * 40 + b"] " * 40 + b".\n",
        "nest.ttl:2:",
    ),
    "nested-lists.ttl": (
        b"@prefix : <https://w3id.org/kzcn/id/place/> .\n:a :b " + b"(" * 100_000 + b")" * 100_000 + b" .\n",
        "brackets nested more than 32 deep",
    ),
    "long-literal.ttl": (
        b'@prefix : <https://w3id.org/kzcn/id/place/> .\n:a :b "' + b"x" * 30_000 + b'" .\n',
        "a literal of 30,000 characters",
    ),
}


def _write(tmp_path: Path, name: str, payload: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(payload)
    return path


@pytest.mark.parametrize("name", sorted(HOSTILE))
@pytest.mark.parametrize("command", ["validate", "add"])
def test_hostile_files_are_refused_as_unusable_with_exit_2(tmp_path, name, command):
    payload, expected = HOSTILE[name]
    path = _write(tmp_path, name, payload)
    project = shared_project()
    before = data_digest(project)
    result = run_cli("--project", str(project.root), command, str(path), exit_code=2)
    expected = expected.replace("nest.ttl", name)
    assert expected in result.stderr
    assert result.stderr.startswith(f"kgtool: error: {path}")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert data_digest(project) == before


def test_nesting_is_reported_at_its_line_and_column(tmp_path):
    path = _write(tmp_path, "deep.ttl", HOSTILE["nested.ttl"][0])
    result = run_cli("--project", str(shared_project().root), "validate", str(path), exit_code=2)
    assert f"{path}:2:{len(':a :b ') + 5 * 32 + 1}: brackets nested more than 32 deep" in result.stderr


def test_a_too_large_file_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "large.ttl"
    with path.open("wb") as handle:
        handle.write(b"# padding\n" * (hygiene.MAX_BYTES // 10 + 1))
    result = run_cli("--project", str(shared_project().root), "validate", str(path), exit_code=2)
    assert f"too large ({path.stat().st_size:,} bytes; a contribution may have at most" in result.stderr
    assert "split it" in result.stderr


@pytest.mark.parametrize(
    "payload",
    [
        b'# x\n"' + b'\\"' * (hygiene.MAX_BYTES // 2 - 8),  # an unterminated string of escaped quotes
        b"'''" * (hygiene.MAX_BYTES // 3 - 2),  # long-string openers everywhere
        b'<a> <b> "x" , "y" .\n' * (hygiene.MAX_BYTES // 20 - 1),  # many short strings
        b"[ ] ( ) " * (hygiene.MAX_BYTES // 8 - 1),  # many brackets, shallow
    ],
    ids=["escaped-quotes", "long-string-openers", "many-strings", "many-brackets"],
)
def test_files_just_under_the_limit_are_scanned_in_linear_time(tmp_path, payload):
    path = _write(tmp_path, "big.ttl", payload)
    assert hygiene.MAX_BYTES // 2 < path.stat().st_size <= hygiene.MAX_BYTES
    start = time.perf_counter()
    hygiene.read_contribution(path)  # passes hygiene: whatever is wrong is for the strict parser to say
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("target", ["https://example.org/new.ttl", "file:///etc/passwd", "ftp://host/x.ttl"])
def test_urls_are_never_fetched(target):
    result = run_cli("--project", str(shared_project().root), "validate", target, exit_code=2)
    assert "URLs are not fetched" in result.stderr


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("/dev/zero", "is a character device, not a regular file"),
        ("/dev/null", "is a character device, not a regular file"),
    ],
)
def test_devices_are_refused(target, message):
    if not Path(target).exists():
        pytest.skip(f"{target} does not exist here")
    assert message in run_cli("--project", str(shared_project().root), "add", target, exit_code=2).stderr


def test_a_folder_and_a_missing_file_are_refused(tmp_path):
    root = str(shared_project().root)
    assert (
        "is a folder, not a file" in run_cli("--project", root, "validate", str(tmp_path), exit_code=2).stderr
    )
    missing = tmp_path / "missing.ttl"
    assert (
        f"{missing}: no such file" in run_cli("--project", root, "validate", str(missing), exit_code=2).stderr
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.ttl"
    os.mkfifo(fifo)
    result = subprocess.run(
        [sys.executable, "-m", "kgtool", "--project", str(shared_project().root), "validate", str(fifo)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "is a named pipe (FIFO), not a regular file" in result.stderr


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    path = _write(tmp_path, "bom.ttl", b"\xef\xbb\xbf" + VALID.encode())
    source = hygiene.read_contribution(path)
    assert source.text == VALID and source.data == VALID.encode()


def test_an_empty_file_passes_hygiene_and_is_refused_as_holding_nothing(tmp_path):
    path = _write(tmp_path, "empty.ttl", b"")
    out = run_cli("--project", str(shared_project().root), "validate", str(path), exit_code=1).stdout
    assert "the contribution holds no triples" in out


def test_a_hostile_label_cannot_drive_the_terminal(tmp_path):
    text = VALID.replace('"Gate test friendship concert in Almaty"@en', '"\\u001B[2J\\u202Eevil"@en')
    path = _write(tmp_path, "escape.ttl", text.encode())
    out = run_cli("--project", str(shared_project().root), "validate", str(path), exit_code=1).stdout
    assert "\x1b" not in out and "\u202e" not in out
    assert "\\u001B[2J\\u202Eevil" in out


def test_too_many_triples_is_refused_after_parsing(tmp_path):
    lines = [
        "@prefix place: <https://w3id.org/kzcn/id/place/> .",
        "@prefix kzcn: <https://w3id.org/kzcn/ontology#> .",
    ]
    lines += [f'place:gate-test-site-{i} kzcn:note "n" .' for i in range(hygiene.MAX_TRIPLES + 1)]
    path = _write(tmp_path, "many.ttl", "\n".join(lines).encode())
    result = run_cli("--project", str(shared_project().root), "add", str(path), exit_code=2)
    assert f"too large ({hygiene.MAX_TRIPLES + 1:,} triples; a contribution may hold at most" in result.stderr


@pytest.mark.parametrize("term, message", [
    ('place:almaty rdfs:label "X"@en-' + "-".join(["abcdefgh"] * 100) + " .", "4: a language tag of 902 characters"),
    ("place:" + "a" * 5000 + ' a kzcn:City ; rdfs:label "X"@en .', "4: an IRI of 5,031 characters"),
], ids=["language-tag", "prefixed-name"])
def test_an_overlong_iri_or_language_tag_is_refused_and_nothing_is_written(tmp_path, term, message):
    """Both are as unbounded in Turtle as a literal; a 900,000-character tag used to be merged."""
    lines = ["@prefix place: <https://w3id.org/kzcn/id/place/> .", "@prefix kzcn: <https://w3id.org/kzcn/ontology#> .",
             "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .", term]
    path = _write(tmp_path, "long.ttl", "\n".join(lines).encode())
    before = data_digest(shared_project())
    result = run_cli("--project", str(shared_project().root), "add", str(path), exit_code=2)
    assert f"long.ttl:{message}" in result.stderr
    assert data_digest(shared_project()) == before
