"""Where the ontology, shapes, data and queries live.

Resolution order: an explicit root (``--project``), ``$KGTOOL_PROJECT``, the nearest folder at or above
the working directory that holds ``ontology/kzcn.ttl``, the checkout this package was installed from
(editable install), and last the read-only copy bundled into the wheel.

Reading the data files first finishes a merge that a crash interrupted after its commit point, so no
reader ever sees a mix of old and new theme files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from .errors import ProjectError

ONTOLOGY_FILE = "ontology/kzcn.ttl"
JOURNAL_NAME = ".kgtool-merge.journal"  # kgtool.commit's commit point: present while a merge is unfinished


class Project(NamedTuple):
    """A project folder (ontology/, data/, queries/). A NamedTuple, not a frozen dataclass: defining one
    costs ~1 ms of every start (kgtool.terms.Term says why that counts)."""

    root: Path

    @property
    def ontology_file(self) -> Path:
        return self.root / ONTOLOGY_FILE

    @property
    def shapes_file(self) -> Path:
        return self.root / "ontology" / "shapes.ttl"

    @property
    def lint_shapes_file(self) -> Path:
        return self.root / "ontology" / "lint-shapes.ttl"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def queries_dir(self) -> Path:
        return self.root / "queries"

    @property
    def data_files(self) -> list[Path]:
        self._finish_interrupted_merge()
        files = sorted(self.data_dir.glob("*.ttl"))
        if not files:
            raise ProjectError(f"{self.data_dir}: no .ttl data files", hint="is this a kgtool project?")
        for path in files:
            if not path.is_file():
                raise ProjectError(f"{path}: is not a regular file", hint="data/*.ttl are Turtle files; rename it")
        return files

    @property
    def source_files(self) -> list[Path]:
        """Everything the graph is built from: the ontology and the data (not the shapes)."""
        return [self.ontology_file, *self.data_files]

    def _finish_interrupted_merge(self) -> None:
        """A merge killed after its commit point left a journal: finish it before anyone reads data/.

        Without this a reader could see some theme files new and some old (kgtool.commit). Waiting for
        the merge lock also makes readers wait out a merge that is renaming files right now.
        """
        if not (self.data_dir / JOURNAL_NAME).exists():
            return
        from .commit import merge_lock, recover  # only now: readers rarely meet a journal
        if not self.writable:
            raise ProjectError(f"{self.data_dir}: an interrupted merge left a journal",
                               hint="run `kgtool add` on a writable copy to finish it")
        with merge_lock(self):
            if (self.data_dir / JOURNAL_NAME).exists():
                recover(self)

    @property
    def writable(self) -> bool:
        return os.access(self.data_dir, os.W_OK) and "_bundled" not in self.root.parts


def _is_project(path: Path) -> bool:
    return (path / ONTOLOGY_FILE).is_file() and (path / "data").is_dir()


def find_project(root: str | os.PathLike[str] | None = None) -> Project:
    if root is not None:
        path = Path(root).resolve()
        if not _is_project(path):
            raise ProjectError(f"{path}: not a kgtool project", hint=f"it needs {ONTOLOGY_FILE} and data/")
        return Project(path)
    env = os.environ.get("KGTOOL_PROJECT")
    if env:
        return find_project(env)
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if _is_project(candidate):
            return Project(candidate)
    package_dir = Path(__file__).resolve().parent
    for candidate in (package_dir.parent, package_dir / "_bundled"):
        if _is_project(candidate):
            return Project(candidate)
    raise ProjectError(
        "no kgtool project found", hint="run inside the checkout, or pass --project DIR / set KGTOOL_PROJECT"
    )
