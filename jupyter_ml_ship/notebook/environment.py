"""The environment lock of a version: declared requirements, or a freeze of the kernel's packages."""

from __future__ import annotations

from pathlib import Path

from ..errors import BadInput, TooLarge
from ..untrusted import inside

#: the largest requirements file read into a lock
MAX_REQUIREMENTS_BYTES = 1024 * 1024

# Packages of the kernel environment that say nothing about the job and would only churn the lock.
_NOT_LOCKED = {"jupyter-ml-ship", "jupyter_ml_ship", "pip", "setuptools", "wheel", "uv"}


def environment_lock(
    notebook_dir: Path, requirements: str | list[str] | None, freeze: bool = True,
    within: Path | None = None, where: str = "",
) -> tuple[str, str]:
    """``(lock text, where it came from)``: metadata list or path, requirements.txt beside, or
    freeze. A file is read only inside ``within`` (the project folder; default: the notebook's
    folder), its links resolved."""
    folder = within or notebook_dir
    if isinstance(requirements, list):
        return _normalize(requirements), "metadata"
    if isinstance(requirements, str) and requirements:
        key = f"{where}metadata.ml_ship.requirements"
        path = inside(requirements, base=notebook_dir, folder=folder, key=key)
        if not path.is_file():
            raise BadInput(f"{key}: {requirements!r}: no such file")
        return _normalize(_read(path, key, requirements)), str(requirements)
    beside = notebook_dir / "requirements.txt"
    if beside.is_file():
        key = f"{where}requirements.txt beside the notebook"
        path = inside("requirements.txt", base=notebook_dir, folder=folder, key=key)
        return _normalize(_read(path, key, "requirements.txt")), "requirements.txt"
    if not freeze:
        return "", "none"
    return freeze_environment(), "frozen"


def _read(path: Path, key: str, named: str) -> list[str]:
    try:
        size = path.stat().st_size
        if size > MAX_REQUIREMENTS_BYTES:
            raise TooLarge(f"{key}: {named!r} is {size} bytes, over {MAX_REQUIREMENTS_BYTES}")
        return path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise BadInput(f"{key}: {named!r} is not UTF-8 text") from None
    except OSError as exc:
        raise BadInput(f"{key}: {named!r} cannot be read: {exc.strerror}") from None


def _normalize(lines: list[str]) -> str:
    kept = [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]
    return "\n".join(kept) + ("\n" if kept else "")


_FREEZE_CACHE: str | None = None


def freeze_environment() -> str:
    """``name==version`` of every distribution in this interpreter, sorted (cached per process)."""
    global _FREEZE_CACHE
    if _FREEZE_CACHE is None:
        import importlib.metadata as md

        names = set()
        for dist in md.distributions():
            # the metadata is an email Message; typeshed declares its .get only from 3.12
            name = dist.metadata.get("Name")  # type: ignore[attr-defined]
            if name and name.lower().replace("_", "-") not in _NOT_LOCKED:
                names.add(f"{name}=={dist.version}")
        _FREEZE_CACHE = "\n".join(sorted(names, key=str.lower)) + "\n"
    return _FREEZE_CACHE
