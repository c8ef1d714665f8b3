"""Time `kgtool add` and the commands after it, with the snapshot the merge makes and with a rebuild.

    python benchmarks/after_add.py benchmarks/out/1e6              # one round
    python benchmarks/after_add.py benchmarks/out/1e6 --rounds 2
    python benchmarks/after_add.py benchmarks/out/1e6 --by-hand    # the contribution copied into data/
    python benchmarks/after_add.py benchmarks/out/1e6 --edit       # triples removed and changed by hand

With ``--by-hand`` the contribution is not merged but copied into ``data/`` as a file of its own, as an
edit by hand or a pull would add it; the query after it then makes the new snapshot from the cached one
(``kgtool.incremental.from_cache``). With ``--edit``, ``data/generated-organization.ttl`` is edited
instead: 500 of its triples removed (types, labels, ``locatedIn`` links and the rest, one line each)
and 500 English labels changed, which the query after it makes by delete and rederive.

Each round copies the generated project to a temporary folder with an empty cache and checks
``contribution.ttl`` once (which builds the snapshot and the gate's index: not timed). Then, each a
``kgtool`` process of its own:

1. ``kgtool add contribution.ttl``: the check, the merge, and the snapshot of the merged data made from
   the previous one (``kgtool.incremental``; its own time is in ``meta.json``);
2. ``kgtool query ci-partners`` and ``kgtool validate contribution-bad.ttl`` on that snapshot;
3. the same two commands after every snapshot and gate index is removed from the cache (else the new
   snapshot would be made from the old one again): what they cost when they build it (as before).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

KGTOOL = [sys.executable, "-m", "kgtool"]


def timed(args: list[str], cwd: Path, env: dict) -> tuple[float, str]:
    start = time.perf_counter()
    run = subprocess.run([*KGTOOL, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if run.returncode not in (0, 1):
        sys.exit(f"kgtool {' '.join(args)}: exit {run.returncode}: {run.stderr.strip()[-500:]}")
    return round(seconds, 2), run.stdout


def edit_by_hand(path: Path, removals: int = 500, renames: int = 500) -> None:
    """Remove whole predicate-object lines (never the last of an object list) and rename labels."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    out = []
    for number, line in enumerate(lines):
        previous = lines[number - 1] if number else ""
        whole = line.startswith("    ") and line.endswith(" ;\n") and (
            previous.endswith(" ;\n") or not previous.startswith((" ", "@")))
        if whole and removals and number % 7 == 0:
            removals -= 1
            continue
        if renames and '"@en ;' in line and number % 7 == 3:
            renames -= 1
            line = line.replace('"@en ;', ' (renamed)"@en ;')
        out.append(line)
    path.write_text("".join(out), encoding="utf-8")


def one_round(generated: Path, by_hand: bool = False, edit: bool = False) -> dict:
    with tempfile.TemporaryDirectory(prefix="kgtool-after-add-") as folder:
        project, cache = Path(folder) / "project", Path(folder) / "cache"
        for part in ("ontology", "data"):
            shutil.copytree(generated / part, project / part)
        shutil.copytree(Path(__file__).resolve().parents[1] / "queries", project / "queries")
        env = {**os.environ, "KGTOOL_CACHE_DIR": str(cache)}
        good, bad = str(generated / "contribution.ttl"), str(generated / "contribution-bad.ttl")
        timed(["validate", good], project, env)  # the snapshot and the gate's index of the data before
        before = {p.name for p in cache.iterdir()}
        if by_hand or edit:
            if edit:
                edit_by_hand(project / "data" / "generated-organization.ttl")
            else:
                shutil.copy(generated / "contribution.ttl", project / "data" / "zz-by-hand.ttl")
            row = {"query after": timed(["query", "ci-partners"], project, env)[0]}
        else:
            row = dict(zip(("add", "said"), timed(["add", good], project, env), strict=True))
            row["said"] = row["said"].strip().splitlines()[-1]
            row["query after"] = timed(["query", "ci-partners"], project, env)[0]
        made = [p for p in cache.glob("snapshot-*") if p.name not in before]
        meta = json.loads((made[0] / "meta.json").read_text()) if made else {}
        row |= {"new snapshot": meta.get("seconds"), "its phases": meta.get("phases"), "removed": meta.get("removed"),
                "extended": "extended_from" in meta, "check after": timed(["validate", bad], project, env)[0]}
        for path in cache.iterdir():  # every snapshot and index: else the next one is made from the old again
            if path.name.startswith(("snapshot-", "gate-index-")):
                shutil.rmtree(path)
        row["query, rebuilding"] = timed(["query", "ci-partners"], project, env)[0]
        row["check, indexing"] = timed(["validate", bad], project, env)[0]
        return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path, help="a folder made by benchmarks/generate.py")
    parser.add_argument("--rounds", type=int, default=1)
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--by-hand", action="store_true", help="copy the contribution into data/ instead")
    how.add_argument("--edit", action="store_true", help="remove and change triples of a data file instead")
    args = parser.parse_args()
    for _ in range(args.rounds):
        print(json.dumps(one_round(args.project.resolve(), args.by_hand, args.edit)), flush=True)


if __name__ == "__main__":
    main()
