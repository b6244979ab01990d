"""Project files of versions and artifacts of runs: ingest, preview, list, fetch, compare.

A version's files are content-addressed blobs under ``HOME/blobs`` and a manifest beside its
notebook snapshot (``jobs/<job>/<digest>.files.json``); a run's artifacts are the files its
runner kept of its working copy, ``RUN_DIR/project`` (``RUN_DIR/work/project`` for a container's
run), listed in ``RUN_DIR/artifacts.json``.
"""

from __future__ import annotations

import json
import mimetypes
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..errors import BadInput, Forbidden, NotFound, ShipError
from ..models import (
    ExcludedFile,
    FileChange,
    FileInput,
    ProjectFile,
    ProjectPreview,
    ProjectSummary,
    RunFiles,
    VersionDiff,
    VersionFiles,
)
from ..notebook._snapshot import confined_paths
from ..notebook.project import (
    Entry,
    ProjectScan,
    check_limits,
    scan_project,
    shipped_notebook_bytes,
)
from ..store.blobs import BlobStore, HashCache
from ..store.files import read_json
from ._base import _ServiceBase
from .access import Actor

ARTIFACTS_LIST = "artifacts.json"
#: where a run's working copy (its artifacts, after the run) is, by backend
ARTIFACT_DIRS = ("project", "work/project")


def _store_entry(blobs: BlobStore, entry: Entry) -> tuple[str, int]:
    if entry.path.endswith(".ipynb"):
        data = shipped_notebook_bytes(entry.source)
        if data is not None:
            return blobs.add_bytes(data), len(data)
    return blobs.add_file(entry.source)


def ingest(scan: ProjectScan, blobs: BlobStore, cache: HashCache) -> list[dict[str, Any]]:
    """Store a scanned project's files; their manifest entries (path, size, sha256, executable).
    A file whose size, mtime and inode are as at the last ship is not read again."""
    found: dict[str, tuple[str, int]] = {}
    todo: list[Entry] = []
    for entry in scan.files:
        hit = cache.get(entry.source, entry.stamp)
        if hit is not None and blobs.has(hit[0]):
            found[entry.path] = hit
        else:
            todo.append(entry)
    if todo:
        workers = min(8, 2 * (os.cpu_count() or 1), len(todo))  # half of it waits on I/O
        with ThreadPoolExecutor(workers) as pool:  # hashlib and file I/O release the GIL
            for entry, stored in zip(todo, pool.map(lambda e: _store_entry(blobs, e), todo)):
                found[entry.path] = stored
                cache.put(entry.source, entry.stamp, *stored)
    cache.save()
    return [{"path": e.path, "size": found[e.path][1], "sha256": found[e.path][0],
             "executable": e.executable} for e in scan.files]


def preview(scan: ProjectScan, display_root: str, max_files: int,
            max_bytes: int) -> ProjectPreview:
    error = None
    try:
        check_limits(scan, max_files, max_bytes)
    except ShipError as exc:
        error = exc.message
    return ProjectPreview(
        root=display_root, notebook=scan.notebook, files=len(scan.files), bytes=scan.bytes,
        largest=[ProjectFile(path=f.path, size=f.size) for f in scan.largest()],
        excluded=[ExcludedFile(path=p, reason=r) for p, r in scan.excluded],
        max_files=max_files, max_bytes=max_bytes, error=error,
    )


def display_root(root: Path, confine: Path | None) -> str:
    if confine is None:
        return str(root)
    rel = os.path.relpath(root, confine.resolve())
    return "" if rel == "." else rel


def _safe_member(base: Path, path: str) -> Path:
    """``base/path`` for a path from a request: relative, no '..', no link out of ``base``."""
    if not path or path.startswith(("/", "\\")) or "\\" in path or "\0" in path:
        raise BadInput(f"file path {path!r}: must be relative to the run's folder")
    parts = Path(path).parts
    if any(p in ("..", ".") for p in parts):
        raise BadInput(f"file path {path!r}: '..' and '.' are not allowed")
    target = base / path
    real = target.resolve()
    if target.is_symlink() or base.resolve() not in real.parents:
        raise BadInput(f"file path {path!r}: leaves the run's files")
    return target


class ProjectsMixin(_ServiceBase):
    # ---- shipping -------------------------------------------------------------------------

    @property
    def blobs(self) -> BlobStore:
        return BlobStore(self.home / "blobs")

    def scan_project(self, notebook: Path, config: dict[str, Any],
                     confine: Path | None = None) -> ProjectScan:
        """The project folder's files; every path the config names checked to stay inside it
        (before anything is stored or read)."""
        scan = scan_project(notebook, root=config.get("root"), include=config.get("include"),
                            exclude=config.get("exclude"), confine=confine, skip=[self.home])
        confined_paths(config, notebook, scan.root, where=f"{notebook.name}: ")
        return scan

    def project_preview(self, path: str | Path, confine: Path | None = None,
                        root: str | None = None, actor: Actor | None = None) -> ProjectPreview:
        """What shipping the notebook at ``path`` would take along (nothing is stored), and
        the project folder to ship instead when it reaches outside its root. ``root``: the
        root to preview (as ``metadata.ml_ship.root``; None: the notebook's own); ``actor``:
        who asks (whether they may ship a folder over the limits anyway)."""
        from ..notebook import load_notebook
        from ..notebook._snapshot import ship_config
        from ..notebook.layout import propose_root

        path = Path(path)
        nb = load_notebook(path, self.settings.max_notebook_bytes)
        config = ship_config(nb, {"root": root} if root is not None else None,
                             where=f"{path.name}: ").model_dump(exclude_none=True)
        proposal = propose_root(path, nb, config.get("root"), confine)
        proposed: dict[str, Any] = {} if proposal is None else {
            "proposed_root": proposal.root, "proposed_reasons": proposal.reasons,
            "proposed_folder": display_root(proposal.folder, confine)}
        try:
            scan = self.scan_project(path, config, confine)
        except BadInput as exc:  # a link out of the folder, a bad root: shown, Ship disabled
            return ProjectPreview(root="", notebook=path.name, files=0, bytes=0,
                                  max_files=self.settings.max_project_files,
                                  max_bytes=self.settings.max_project_bytes, error=exc.message,
                                  **proposed)
        shown = preview(scan, display_root(scan.root, confine), self.settings.max_project_files,
                        self.settings.max_project_bytes)
        if shown.error is not None and self.may_ship_anyway(self._actor(actor)):
            files, size = self.ship_limits(self._actor(actor), anyway=True)
            if len(scan.files) <= files and scan.bytes <= size:
                proposed.update(may_ship_anyway=True, anyway_max_files=files,
                                anyway_max_bytes=size)
        return shown.model_copy(update=proposed)

    def may_ship_anyway(self, actor: Actor | None) -> bool:
        """Whether ``actor`` may ship a project folder over the limits: an ml-ship admin, the
        user of a single-user server (no actor), or anyone with ``MlShip.allow_big_ship``."""
        return actor is None or actor.admin or self.settings.allow_big_ship

    def ship_limits(self, actor: Actor | None, anyway: bool = False) -> tuple[int, int]:
        """(files, bytes) a project folder of one ship may hold: the server's limits, or a
        ship anyway's (``Forbidden`` for who may not)."""
        s = self.settings
        if not anyway:
            return s.max_project_files, s.max_project_bytes
        if not self.may_ship_anyway(actor):
            assert actor is not None  # no actor (single-user) may
            raise Forbidden(f"{actor.name} may not ship a project folder over the limits "
                            "anyway: only an ml-ship admin may (or a server with "
                            "MlShip.allow_big_ship)")
        return (max(s.ship_anyway_max_files, s.max_project_files),
                max(s.ship_anyway_max_bytes, s.max_project_bytes))

    @staticmethod
    def with_layout_hint(project: dict[str, Any] | None,
                         error: dict[str, Any] | None) -> dict[str, Any] | None:
        """A run's error with a ``hint`` when it is a module or file that exists outside the
        shipped folder (read where the version was shipped from, if it is still there)."""
        from ..notebook.layout import outside_hint

        source = (project or {}).get("source")
        if not error or not source or error.get("hint") \
                or error.get("ename") not in ("ModuleNotFoundError", "FileNotFoundError"):
            return error
        top = project.get("top") if project else ""
        shipped = Path(source)
        notebook_dir = (shipped / str((project or {}).get("notebook") or "x")).parent

        def show(path: Path) -> str:
            shown = os.path.relpath(path, top) if top else str(path)
            return "" if shown == "." else shown

        try:
            hint = outside_hint(error.get("ename"), error.get("evalue"), notebook_dir, shipped,
                                show)
        except (OSError, ValueError):
            return error
        return {**error, "hint": hint} if hint else error

    def ingest_project(self, scan: ProjectScan,
                       limits: tuple[int, int] | None = None) -> list[dict[str, Any]]:
        """Store the folder's files (over ``limits``, files and bytes, default the server's:
        refused)."""
        check_limits(scan, *(limits or (self.settings.max_project_files,
                                        self.settings.max_project_bytes)))
        key = str(scan.root).encode()
        import hashlib

        cache = HashCache(self.home / "cache" / "hashes" /
                          f"{hashlib.sha256(key).hexdigest()[:20]}.json")
        return ingest(scan, self.blobs, cache)

    # ---- versions -------------------------------------------------------------------------

    def _manifest(self, job: str, number: int | None) -> tuple[int, dict[str, Any] | None]:
        with self.store.session() as s:
            v = self._version(s, job, number)
            n, project = v.number, v.project
        if not project:
            return n, None
        data = read_json(project["manifest"])
        if data is None:
            raise NotFound(f"job {job!r} v{n}: its file list {project['manifest']} is missing")
        return n, data

    def version_files(self, job: str, number: int | None = None) -> VersionFiles:
        n, manifest = self._manifest(job, number)
        if manifest is None:
            return VersionFiles(job=job, version=n)
        return VersionFiles(
            job=job, version=n, project=ProjectSummary(
                root=manifest["root"], notebook=manifest["notebook"],
                files=len(manifest["files"]), bytes=sum(f["size"] for f in manifest["files"])),
            files=[ProjectFile(path=f["path"], size=f["size"], sha256=f["sha256"])
                   for f in manifest["files"]])

    def version_file(self, job: str, number: int | None, path: str) -> Path:
        """The stored (read-only) copy of one project file of a version."""
        n, manifest = self._manifest(job, number)
        for f in (manifest or {}).get("files", []):
            if f["path"] == path:
                return self.blobs.path(f["sha256"])
        raise NotFound(f"job {job!r} v{n} has no file {path!r}")

    def diff_versions(self, job: str, a: int, b: int | None = None) -> VersionDiff:
        """Version ``a`` against ``b`` (default: the current one): notebook sources through
        nbdime (outputs and metadata ignored) and project files added, removed, changed."""
        from ..notebook.diff import notebook_diff

        with self.store.session() as s:
            va = self._version(s, job, a)
            vb = self._version(s, job, b)
            na, nb_ = va.number, vb.number
            file_a, file_b = Path(va.notebook_file), Path(vb.notebook_file)
        left = json.loads(file_a.read_text(encoding="utf-8"))
        right = json.loads(file_b.read_text(encoding="utf-8"))
        base, diff, text = notebook_diff(left, right, f"{job} v{na}", f"{job} v{nb_}")
        fa = {f["path"]: f for f in (self._manifest(job, na)[1] or {}).get("files", [])}
        fb = {f["path"]: f for f in (self._manifest(job, nb_)[1] or {}).get("files", [])}
        return VersionDiff(
            job=job, a=na, b=nb_, notebook_a=base, notebook_diff=diff, notebook_text=text,
            added=[ProjectFile(path=p, size=fb[p]["size"]) for p in sorted(fb.keys() - fa.keys())],
            removed=[ProjectFile(path=p, size=fa[p]["size"])
                     for p in sorted(fa.keys() - fb.keys())],
            changed=[FileChange(path=p, size_a=fa[p]["size"], size_b=fb[p]["size"])
                     for p in sorted(fa.keys() & fb.keys()) if fa[p]["sha256"] != fb[p]["sha256"]],
        )

    # ---- runs -----------------------------------------------------------------------------

    def _run_dir(self, run_id: str) -> Path:
        from ..store import Run

        with self.store.session() as s:
            row = s.get(Run, run_id)
            if row is None:
                raise NotFound(f"no run with id {run_id!r}")
            return Path(row.run_dir)

    def run_artifacts_dir(self, run_id: str) -> Path:
        run_dir = self._run_dir(run_id)
        for name in ARTIFACT_DIRS:
            if (run_dir / name).is_dir():
                return run_dir / name
        return run_dir / ARTIFACT_DIRS[0]

    def run_files(self, run_id: str) -> RunFiles:
        run_dir = self._run_dir(run_id)
        listing = read_json(run_dir / ARTIFACTS_LIST) or {}
        inputs = read_json(run_dir / "inputs.json") or []
        return RunFiles(
            run_id=run_id,
            files=[ProjectFile(path=f["path"], size=f["size"]) for f in listing.get("files", [])],
            not_kept=[ProjectFile(path=f["path"], size=f["size"])
                      for f in listing.get("not_kept", [])],
            inputs=[FileInput(**i) for i in inputs],
        )

    def run_file(self, run_id: str, path: str) -> tuple[Path, str]:
        """One artifact of a run: its file and content type (paths confined to the run)."""
        base = self.run_artifacts_dir(run_id)
        target = _safe_member(base, path)
        if not target.is_file():
            kept = [f.path for f in self.run_files(run_id).files]
            raise NotFound(f"run {run_id} has no file {path!r}" +
                           (f" (it has: {', '.join(kept[:10])})" if kept else
                            " (it kept no files)"))
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        if kind.startswith("text/") or kind in ("application/json",):
            kind += "; charset=utf-8"
        return target, kind
