"""Content-addressed files under the home: ``blobs/ab/cdef…`` named by their sha256.

A blob is written once (temp file, then rename), made read-only, and never changed: ten versions
that hold the same 100 MB data file store it once. Copies handed to runs are real copies (never
hard links), so a run cannot change what a version holds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..runner._files import with_filename
from .files import atomic_write_text

CHUNK = 1 << 20


def _write_all(out: Any, data: memoryview) -> None:
    done = 0
    while done < len(data):  # a raw write may take less than it is given
        done += out.write(data[done:])


class BlobStore:
    def __init__(self, folder: Path):
        self.folder = folder

    def path(self, sha: str) -> Path:
        return self.folder / sha[:2] / sha[2:]

    def has(self, sha: str) -> bool:
        return self.path(sha).exists()

    def add_file(self, source: Path) -> tuple[str, int]:
        """Store a file's content, reading it once; its (sha256, size)."""
        with open(source, "rb") as src:
            head = src.read(CHUNK + 1)
            if len(head) <= CHUNK:  # most of a project: hashed first, written beside its name
                return self.add_bytes(head), len(head)
            return self._add_stream(src, head)

    def _add_stream(self, src: Any, head: bytes) -> tuple[str, int]:
        """A large file, hashed as it is copied into a temp file (then renamed to its sha)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".in-", dir=self.folder)
        h, size = hashlib.sha256(head), len(head)
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        try:  # one buffer, no Python-level buffering: a copy fewer per chunk
            with os.fdopen(fd, "wb", buffering=0) as out:
                _write_all(out, memoryview(head))
                while n := src.readinto(buf):
                    h.update(view[:n])
                    _write_all(out, view[:n])
                    size += n
                os.fchmod(out.fileno(), 0o444)
            return self._settle(tmp, h.hexdigest()), size
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            if isinstance(exc, OSError):  # a full disk says where
                raise with_filename(exc, self.folder) from None
            raise

    def add_bytes(self, data: bytes) -> str:
        """Store ``data``; its sha256. Content already stored is not written again; the temp
        file is made in the blob's own folder, so the rename stays within one directory (one
        across directories takes a file-system-wide lock, and every thread of a first ship
        would create its temp files in the same folder)."""
        sha = hashlib.sha256(data).hexdigest()
        final = self.path(sha)
        if final.exists():
            return sha
        final.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".in-", dir=final.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                os.fchmod(out.fileno(), 0o444)
            os.replace(tmp, final)  # stored meanwhile by another process: the same content
            return sha
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            try:  # a shard folder this write made and a full disk left empty
                final.parent.rmdir()
            except OSError:
                pass
            if isinstance(exc, OSError):  # a full disk says where
                raise with_filename(exc, self.folder) from None
            raise

    def _settle(self, tmp: str, sha: str) -> str:
        final = self.path(sha)
        if final.exists():
            os.unlink(tmp)
            return sha
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
        return sha

    def copy_to(self, sha: str, dest: Path, executable: bool = False) -> None:
        """A private, writable copy of a blob at ``dest`` (never a hard link)."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.path(sha), dest)
        os.chmod(dest, 0o755 if executable else 0o644)


def materialize(blobs: BlobStore, files: list[dict[str, Any]], dest: Path) -> None:
    """Lay out a version's project files (manifest entries) under ``dest``, whole or not at
    all (a full disk halfway leaves no half copy)."""
    fresh = not dest.exists()
    try:
        for f in files:
            target = dest / f["path"]
            if dest not in target.parents:  # a manifest is ours, but never trust a path
                raise ValueError(f"manifest path {f['path']!r} leaves the project folder")
            blobs.copy_to(f["sha256"], target, bool(f.get("executable")))
    except BaseException:
        if fresh:
            shutil.rmtree(dest, ignore_errors=True)
        raise


class HashCache:
    """sha256 of files by (size, mtime, inode): an unchanged file is not read again on re-ship."""

    def __init__(self, path: Path):
        self.path = path
        self.entries: dict[str, list[Any]] = {}
        self.dirty = False
        try:
            self.entries = json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            pass

    def get(self, source: Path, stamp: list[int]) -> tuple[str, int] | None:
        """(sha256, stored size) when ``stamp`` ([size, mtime_ns, inode] now) is unchanged."""
        hit = self.entries.get(str(source))
        return (str(hit[3]), int(hit[4])) if hit and hit[:3] == stamp else None

    def put(self, source: Path, stamp: list[int], sha: str, size: int) -> None:
        self.entries[str(source)] = [*stamp, sha, size]
        self.dirty = True

    def save(self, keep: set[str] | None = None) -> None:
        if keep is not None:
            dropped = set(self.entries) - keep
            for k in dropped:
                del self.entries[k]
            self.dirty = self.dirty or bool(dropped)
        if self.dirty:
            atomic_write_text(self.path, json.dumps(self.entries), durable=False)
            self.dirty = False

