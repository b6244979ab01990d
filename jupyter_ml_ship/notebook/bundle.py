"""A project folder as ONE stream (a tar), for shipping to a remote server, and its unpacking.

The client packs what a local ship would take along — the files of ``scan_project`` (same
``.shipignore``, ``include``/``exclude``, same refusal of links leaving the folder, same size
limits) plus the notebook — as a plain POSIX tar produced chunk by chunk (nothing is staged on
disk, nothing is compressed: a project's data rarely compresses and the hashing dominates).

The server never trusts that stream: ``unpack`` takes regular files and folders only (a
symbolic or hard link, a device, a FIFO is refused), keeps every name inside the destination
(no absolute path, no ``..``, no backslash, no NUL, no name given twice), counts files and bytes
against its own limits as the headers arrive (``TooLarge`` before the data is written), and
on any refusal removes what it wrote: all or nothing.
"""

from __future__ import annotations

import os
import shutil
import stat
import tarfile
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Protocol, cast

from ..errors import BadInput, TooLarge
from .project import IGNORE_FILE, ProjectScan

CHUNK = 1 << 20
BLOCK = tarfile.BLOCKSIZE
#: the media type of the stream ``POST /ship/upload`` takes
MEDIA_TYPE = "application/x-tar"


class Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


def _header(name: str, size: int, executable: bool) -> bytes:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o755 if executable else 0o644
    info.type = tarfile.REGTYPE
    return info.tobuf(format=tarfile.PAX_FORMAT, encoding="utf-8", errors="strict")


def _file_blocks(source: Path, name: str, executable: bool) -> Iterator[bytes]:
    with open(source, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        yield _header(name, size, executable)
        sent = 0
        while sent < size:
            data = fh.read(min(CHUNK, size - sent))
            if not data:
                raise BadInput(f"{name}: changed while it was being sent (shorter than {size} "
                               "bytes); ship again")
            sent += len(data)
            yield data
    if size % BLOCK:
        yield b"\0" * (BLOCK - size % BLOCK)


def pack(scan: ProjectScan) -> Iterator[bytes]:
    """The tar stream of a scanned project: its files, then the notebook (at ``scan.notebook``
    inside the project folder)."""
    for entry in scan.files:
        yield from _file_blocks(entry.source, entry.path, entry.executable)
    yield from _file_blocks(scan.root / scan.notebook, scan.notebook, False)
    yield b"\0" * (2 * BLOCK)


def _member_path(dest: Path, name: str) -> Path:
    """``dest/name`` for a name from the stream, refused unless it stays inside ``dest``."""
    if not name or "\0" in name or "\\" in name or name.startswith("/"):
        raise BadInput(f"uploaded project: {name!r} is not a relative path")
    parts = [p for p in PurePosixPath(name).parts if p != "."]
    if not parts or any(p == ".." for p in parts):
        raise BadInput(f"uploaded project: {name!r} leaves the project folder")
    return dest.joinpath(*parts)


def _check_parent(dest: Path, target: Path, name: str) -> None:
    """Every folder between ``dest`` and ``target`` is a real folder (no link made earlier)."""
    for parent in reversed(target.parents):
        if parent == dest or dest not in parent.parents:
            continue
        st = os.lstat(parent) if os.path.lexists(parent) else None
        if st is not None and not stat.S_ISDIR(st.st_mode):
            raise BadInput(f"uploaded project: {name!r} is inside {parent.relative_to(dest)}, "
                           "which is a file")


def unpack(stream: Readable, dest: Path, notebook: str, *, max_files: int, max_bytes: int,
           max_notebook_bytes: int) -> Path:
    """Unpack a project stream into the new folder ``dest``; the notebook's path there. The
    limits are the server's (never the client's); ``notebook`` is not counted against them,
    like a local ship. Nothing is left in ``dest`` when anything is refused."""
    nb_name = "/".join(p for p in PurePosixPath(notebook.replace("\\", "/")).parts if p != ".")
    nb_path = _member_path(dest, nb_name)
    dest.mkdir(parents=True)
    files = total = 0
    seen: set[str] = set()
    try:
        try:
            archive = tarfile.open(fileobj=cast(IO[bytes], stream), mode="r|", encoding="utf-8",
                                   errors="strict")
        except tarfile.ReadError as exc:
            raise BadInput(f"uploaded project: not a tar stream ({exc})") from None
        with archive:
            for member in archive:
                target = _member_path(dest, member.name)
                rel = target.relative_to(dest).as_posix()
                if member.issym() or member.islnk():
                    raise BadInput(
                        f"uploaded project: {rel} is a link (to {member.linkname}); links are "
                        f"not accepted in an upload: ship the file itself, or add it to "
                        f"{IGNORE_FILE}")
                _check_parent(dest, target, rel)
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                if not member.isfile():
                    raise BadInput(f"uploaded project: {rel} is not a regular file")
                if rel in seen:
                    raise BadInput(f"uploaded project: {rel} is given twice")
                seen.add(rel)
                if rel == nb_name:
                    if member.size > max_notebook_bytes:
                        raise TooLarge(f"uploaded project: the notebook {rel} has "
                                       f"{member.size} bytes (limit {max_notebook_bytes}, "
                                       "MlShip.max_notebook_bytes)")
                else:
                    files, total = files + 1, total + member.size
                    if files > max_files:
                        raise TooLarge(f"uploaded project: more than {max_files} files (limit "
                                       "of this server, MlShip.max_project_files); leave "
                                       f"files out with a {IGNORE_FILE}")
                    if total > max_bytes:
                        raise TooLarge(f"uploaded project: over {max_bytes} bytes at {rel} "
                                       "(limit of this server, MlShip.max_project_bytes); "
                                       f"leave files out with a {IGNORE_FILE}")
                target.parent.mkdir(parents=True, exist_ok=True)
                _write(archive, member, target, rel)
        if not nb_path.is_file():
            raise BadInput(f"uploaded project: the notebook {notebook!r} is not in it")
        return nb_path
    except (tarfile.TarError, EOFError) as exc:
        shutil.rmtree(dest, ignore_errors=True)
        raise BadInput(f"uploaded project: not a whole tar stream ({exc})") from None
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise


def _write(archive: tarfile.TarFile, member: tarfile.TarInfo, target: Path, rel: str) -> None:
    src = archive.extractfile(member)
    assert src is not None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    mode = 0o755 if member.mode & 0o100 else 0o644
    try:
        fd = os.open(target, flags, mode)
    except FileExistsError:
        raise BadInput(f"uploaded project: {rel} is given twice") from None
    with os.fdopen(fd, "wb") as out:
        left = member.size
        while left:
            data = src.read(min(CHUNK, left))
            if not data:
                raise BadInput(f"uploaded project: {rel} ends early (the stream was cut)")
            out.write(data)
            left -= len(data)
