"""The cache stays bounded without pulling an entry from under a process that uses it, and `kgtool cache`
shows and clears it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from helpers import copy_project
from kgtool import closure
from kgtool.cli import cli
from kgtool.project import find_project
from kgtool.snapshot import get_snapshot

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="entries in use are marked by POSIX locks")

HOLDER = """
import sys
from pathlib import Path
from kgtool import closure
print("held" if closure.hold(Path(sys.argv[1])) else "gone", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    folder.mkdir()
    monkeypatch.setenv("KGTOOL_CACHE_DIR", str(folder))
    yield folder
    for name in [name for name in closure._held if name.startswith(str(folder))]:
        let_go(name)


def let_go(name) -> None:
    """What the end of this process would do for one entry it holds."""
    os.close(closure._held.pop(str(name)))


def entry(cache, name: str, age: float, size: int = 10):
    """A folder entry last used ``age`` seconds ago."""
    folder = cache / name
    folder.mkdir()
    (folder / "data").write_bytes(b"x" * size)
    when = time.time() - age
    os.utime(folder, (when, when))
    return folder


class Holder:
    """Another process that holds an entry, as `kgtool serve` holds its snapshot, until it is closed."""

    def __init__(self, folder) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        self.state = self.process.stdout.readline().strip()

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def names(cache, prefix: str = "snapshot-") -> list[str]:
    return sorted(p.name for p in cache.glob(f"{prefix}*"))


def test_prune_keeps_the_most_recently_used_and_any_in_use(cache):
    for age, name in enumerate("abcdef"):
        entry(cache, f"snapshot-{name}", age=1000 * (age + 1))
    holder = Holder(cache / "snapshot-f")  # the oldest: held, so its time is now the newest
    assert holder.state == "held"
    os.utime(cache / "snapshot-f", (time.time() - 99999, time.time() - 99999))  # old again, and still held
    try:
        closure.prune("snapshot-*")
        assert names(cache) == ["snapshot-a", "snapshot-b", "snapshot-c", "snapshot-f"]
    finally:
        holder.close()
    closure.prune("snapshot-*")
    assert names(cache) == ["snapshot-a", "snapshot-b", "snapshot-c"], "let go, it is removed like any other"
    assert not [p.name for p in cache.iterdir() if p.name.startswith(".")], "leftovers of the removals"


def test_an_entry_held_by_this_process_is_kept(cache):
    for age in range(5):
        entry(cache, f"snapshot-{age}", age=1000 * (age + 1))
    assert closure.hold(cache / "snapshot-4")
    os.utime(cache / "snapshot-4", (time.time() - 99999, time.time() - 99999))
    closure.prune("snapshot-*", keep=1)
    assert names(cache) == ["snapshot-0", "snapshot-4"]
    assert not closure.remove_entry(cache / "snapshot-4")


def test_holding_a_removed_entry_says_so_and_marks_it_used(cache):
    assert not closure.hold(cache / "snapshot-never-built")
    folder = entry(cache, "snapshot-old", age=5000)
    assert closure.hold(folder)
    assert time.time() - folder.stat().st_mtime < 60, "its time is its last use"


def test_a_snapshot_in_use_survives_newer_builds(tmp_path, cache):
    """The race this prevents: a server holds the snapshot of the data it started with; queries on edited
    data build newer ones, and the prune after each build must not delete the server's store."""
    served = get_snapshot(find_project(copy_project(tmp_path / "served")))
    let_go(served.path)  # only the other process holds it now
    holder = Holder(served.path)
    assert holder.state == "held"
    try:
        for index in range(4):
            other = copy_project(tmp_path / f"edited{index}")
            with (other / "data" / "places.ttl").open("a", encoding="utf-8") as out:
                out.write(f"\n<https://w3id.org/kzcn/id/place/t{index}> a <https://w3id.org/kzcn/ontology#City> ;"
                          f'\n    <http://www.w3.org/2000/01/rdf-schema#label> "T{index}"@en .\n')
            run = subprocess.run([sys.executable, "-m", "kgtool", "--project", str(other), "query", "ci-partners",
                                  "-f", "csv"], capture_output=True, text=True, timeout=300)
            assert run.returncode == 0, run.stderr
        assert (served.path / "meta.json").is_file(), "the snapshot in use was removed"
        assert len(names(cache)) == 4  # the three most recently used, and the one in use
        assert served.open().query("ASK { ?s ?p ?o }")
    finally:
        holder.close()


def test_read_cached_files_are_kept_by_last_use(cache):
    for index in range(4):
        closure.write_cached(f"key{index}", b"payload", keep=None)
        os.utime(cache / f"key{index}.nt", (time.time() - 1000 + index, time.time() - 1000 + index))
    assert closure.read_cached("key0") == b"payload"  # used now: the newest
    closure.write_cached("key4", b"payload")
    assert sorted(p.name for p in cache.glob("*.nt")) == ["key0.nt", "key3.nt", "key4.nt"]


def fill(cache):
    entry(cache, "snapshot-new", age=10, size=2_000_000)
    entry(cache, "snapshot-old", age=5000, size=1_000)
    entry(cache, "gate-index-one", age=10, size=500)
    (cache / "abc.nt").write_bytes(b"x" * 300)
    (cache / "def.local").write_bytes(b"yes\n")
    (cache / ".snapshot-zzz-1234.tmp").mkdir()  # a build that crashed: its lock is free


def test_cache_info_lists_kinds_sizes_and_what_is_in_use(cache):
    fill(cache)
    holder = Holder(cache / "snapshot-old")
    try:
        text = CliRunner().invoke(cli, ["cache", "info"])
        assert text.exit_code == 0, text.output
        assert f"cache: {cache}" in text.output
        assert re.search(r"store snapshot +2 entries +2\.0 MB, 1 in use\n", text.output), text.output
        assert "unfinished build" in text.output and "OWL RL closure" in text.output
        assert "total: 2.0 MB in 6 entries" in text.output
        listed = json.loads(CliRunner().invoke(cli, ["cache", "info", "--format", "json"]).output)
        by_name = {e["name"]: e for e in listed["entries"]}
        assert by_name["snapshot-old"]["in_use"] and not by_name["snapshot-new"]["in_use"]
        assert by_name["snapshot-new"]["bytes"] == 2_000_000 and listed["bytes"] == sum(
            e["bytes"] for e in listed["entries"])
        verbose = CliRunner().invoke(cli, ["cache", "info", "-v"]).output
        assert "snapshot-old  1.0 kB  last used" in verbose and "in use" in verbose
    finally:
        holder.close()


def test_cache_clear_removes_all_but_the_entries_in_use(cache):
    fill(cache)
    before = sorted(p.name for p in cache.iterdir())
    dry = CliRunner().invoke(cli, ["cache", "clear", "--dry-run"])
    assert dry.exit_code == 0 and dry.output.startswith("would remove 6 entries, 2.0 MB")
    assert sorted(p.name for p in cache.iterdir()) == before, "--dry-run removed something"
    holder = Holder(cache / "snapshot-old")
    try:
        cleared = CliRunner().invoke(cli, ["cache", "clear"])
        assert cleared.exit_code == 0, cleared.output
        assert cleared.output == "removed 5 entries, 2.0 MB; kept 1 in use by a running kgtool (snapshot-old)\n"
        assert sorted(p.name for p in cache.iterdir()) == ["snapshot-old"]
    finally:
        holder.close()
    assert CliRunner().invoke(cli, ["cache", "clear"]).output == "removed 1 entry, 1.0 kB\n"
    assert CliRunner().invoke(cli, ["cache", "info"]).output.endswith("empty\n")


def test_an_unfinished_build_whose_builder_runs_is_in_use(cache):
    (cache / ".snapshot-abc-x1y2.tmp").mkdir()
    with closure.build_lock("snapshot-abc"):
        held = CliRunner().invoke(cli, ["cache", "clear"]).output
        assert "kept 1 in use" in held and (cache / ".snapshot-abc-x1y2.tmp").is_dir()
    assert CliRunner().invoke(cli, ["cache", "clear"]).output.startswith("removed 1 entry")


def test_a_file_system_without_locks_still_uses_and_prunes_the_cache(cache, monkeypatch):
    """Some NFS mounts refuse flock (ENOLCK): entries are then used unheld and pruned as before, rather than
    found gone at every use (a rebuild each time) or in use for ever (a cache without bound)."""
    import errno
    import fcntl

    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    for age in range(5):
        entry(cache, f"snapshot-{age}", age=1000 * (age + 1))
    assert closure.hold(cache / "snapshot-0")
    closure.prune("snapshot-*")
    assert names(cache) == ["snapshot-0", "snapshot-1", "snapshot-2"]
    assert "in use" not in CliRunner().invoke(cli, ["cache", "info"]).output


def test_cache_build_builds_the_snapshot_and_the_gate_index_once(tmp_path, cache):
    project = copy_project(tmp_path / "project")
    first = CliRunner().invoke(cli, ["--project", str(project), "cache", "build", "--gate-index"])
    assert first.exit_code == 0, first.output
    snapshot_line, index_line = first.output.splitlines()
    assert re.fullmatch(r"snapshot-[0-9a-f]{40}: built in \d+\.\d s; [\d,]+ asserted and [\d,]+ inferred triples "
                        r"\(parse .* s\)", snapshot_line), snapshot_line
    assert re.fullmatch(r"gate-index-[0-9a-f]{40}: built in \d+\.\d s; [\d,]+ subjects", index_line), index_line
    assert names(cache) == [snapshot_line.split(":")[0]] and names(cache, "gate-index-") == [index_line.split(":")[0]]
    again = CliRunner().invoke(cli, ["--project", str(project), "cache", "build", "--gate-index"]).output
    assert again == (f"{snapshot_line.split(':')[0]}: already built; {snapshot_line.split('; ')[1].split(' (')[0]}\n"
                     f"{index_line.split(':')[0]}: already built; {index_line.split('; ')[1]}\n")
    meta = cache / snapshot_line.split(":")[0] / "meta.json"
    built = meta.stat().st_mtime_ns
    query = subprocess.run([sys.executable, "-m", "kgtool", "--project", str(project), "query", "ci-partners",
                            "-f", "csv"], capture_output=True, text=True, timeout=300)
    assert query.returncode == 0, query.stderr
    assert meta.stat().st_mtime_ns == built and len(names(cache)) == 1, "the query built the snapshot again"
