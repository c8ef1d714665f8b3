"""Shared test helpers: a CLI runner that fails loudly, and project copies for tests that write."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from click.testing import CliRunner, Result

from kgtool.cli import cli

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


def run_cli(*args: str, exit_code: int = 0, input: str | None = None) -> Result:
    """Invoke kgtool in-process; on an unexpected exit code, fail showing stdout and stderr."""
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=True)
    if result.exit_code != exit_code:
        detail = f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        if result.exc_info and result.exc_info[0] is not SystemExit:
            import traceback

            detail += "\n" + "".join(traceback.format_exception(*result.exc_info))
        raise AssertionError(f"kgtool {' '.join(args)}: exit {result.exit_code}, expected {exit_code}\n{detail}")
    return result


def copy_project(target: Path) -> Path:
    """A writable copy of the project (ontology, data, queries) for tests that change data/."""
    for folder in ("ontology", "data", "queries"):
        shutil.copytree(REPO / folder, target / folder)
    return target


def tree_digest(folder: Path) -> str:
    """A hash of every file's name and bytes under folder: proves 'unchanged byte for byte'."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()
