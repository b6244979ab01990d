"""The environment lock of a version: declared requirements, or a freeze of the kernel's packages."""

from __future__ import annotations

from pathlib import Path

from ..errors import BadInput

# Packages of the kernel environment that say nothing about the job and would only churn the lock.
_NOT_LOCKED = {"jupyter-ml-ship", "jupyter_ml_ship", "pip", "setuptools", "wheel", "uv"}


def environment_lock(
    notebook_dir: Path, requirements: str | list[str] | None, freeze: bool = True
) -> tuple[str, str]:
    """``(lock text, where it came from)``: metadata list or path, requirements.txt beside, or freeze."""
    if isinstance(requirements, list):
        return _normalize(requirements), "metadata"
    if isinstance(requirements, str) and requirements:
        path = (notebook_dir / requirements).resolve()
        if not path.is_file():
            raise BadInput(f"metadata.ml_ship.requirements: {requirements}: no such file")
        return _normalize(path.read_text().splitlines()), str(requirements)
    beside = notebook_dir / "requirements.txt"
    if beside.is_file():
        return _normalize(beside.read_text().splitlines()), "requirements.txt"
    if not freeze:
        return "", "none"
    return freeze_environment(), "frozen"


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
