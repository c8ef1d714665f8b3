"""Time `kgtool add` and the commands after it, with the snapshot the merge makes and with a rebuild.

    python benchmarks/after_add.py benchmarks/out/1e6              # one round
    python benchmarks/after_add.py benchmarks/out/1e6 --rounds 2

Each round copies the generated project to a temporary folder with an empty cache and checks
``contribution.ttl`` once (which builds the snapshot and the gate's index: not timed). Then, each a
``kgtool`` process of its own:

1. ``kgtool add contribution.ttl``: the check, the merge, and the snapshot of the merged data made from
   the previous one (``kgtool.incremental``; its own time is in ``meta.json``);
2. ``kgtool query ci-partners`` and ``kgtool validate contribution-bad.ttl`` on that snapshot;
3. the same two commands after the snapshot and the gate's index of the merged data are removed from the
   cache: what they cost when the merge leaves the rebuild to them (as every merge did before).
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


def one_round(generated: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="kgtool-after-add-") as folder:
        project, cache = Path(folder) / "project", Path(folder) / "cache"
        for part in ("ontology", "data"):
            shutil.copytree(generated / part, project / part)
        shutil.copytree(Path(__file__).resolve().parents[1] / "queries", project / "queries")
        env = {**os.environ, "KGTOOL_CACHE_DIR": str(cache)}
        good, bad = str(generated / "contribution.ttl"), str(generated / "contribution-bad.ttl")
        timed(["validate", good], project, env)  # the snapshot and the gate's index of the data before
        before = {p.name for p in cache.iterdir()}
        add, summary = timed(["add", good], project, env)
        made = [p for p in cache.glob("snapshot-*") if p.name not in before]
        meta = json.loads((made[0] / "meta.json").read_text()) if made else {}
        row = {"add": add, "snapshot made by add": meta.get("seconds"), "its phases": meta.get("phases"),
               "said": summary.strip().splitlines()[-1],
               "query after": timed(["query", "ci-partners"], project, env)[0],
               "check after": timed(["validate", bad], project, env)[0]}
        for path in cache.iterdir():  # what add made: the rebuild's turn
            if path.name not in before and path.name.startswith(("snapshot-", "gate-index-")):
                shutil.rmtree(path)
        row["query, rebuilding"] = timed(["query", "ci-partners"], project, env)[0]
        row["check, indexing"] = timed(["validate", bad], project, env)[0]
        return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path, help="a folder made by benchmarks/generate.py")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    for _ in range(args.rounds):
        print(json.dumps(one_round(args.project.resolve())), flush=True)


if __name__ == "__main__":
    main()
