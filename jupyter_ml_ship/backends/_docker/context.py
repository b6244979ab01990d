"""The build plan of a version's image: Dockerfile, build context (a tar stream), tag and labels.

Layers, from the least to the most often changing, so a notebook-only change rebuilds only the
last one:

1. ``FROM`` the base image (a registry image such as ``python:3.11-slim``, or a local one);
2. the CA bundle (``ca_bundle``) in the system store, with ``SSL_CERT_FILE``/``PIP_CERT`` set,
   so pip, uv and the notebook trust a TLS-intercepting proxy;
3. a venv at ``/opt/ml-ship`` with the runtime (papermill, ipykernel, nbformat at the host's
   versions);
4. the version's lock (requirements), one layer keyed by the lock's content. A lock frozen from
   the kernel environment is *not* installed: that would copy a whole development environment
   (Jupyter, the lab, test tools) into every image. Such a job gets the runtime only; declare
   ``requirements`` to have packages installed;
5. the runner's own sources (``jupyter_ml_ship.runner`` and what it imports; no SQLAlchemy);
   an R notebook's image also has R and IRkernel (``r_base_image``, or a layer after ``FROM``);
6. the notebook snapshot at ``/job/notebook.ipynb``.

With a ``wheelhouse`` the installs use ``--no-index --find-links`` and the build has no network;
the installs happen in a build stage so the wheels never end up in the image.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import platform
import shutil
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from ...languages import language_name
from .engine import LABEL_BUILD, LABEL_DIGEST, LABEL_JOB, LABEL_LOCK, LABEL_VERSION

VENV = "/opt/ml-ship"
PROJECT = "/job/project"
#: a project over this size is an image of its own (see ``BuildPlan.split``)
SPLIT_BYTES = 8 * 1024 * 1024
STAGING = "/opt/ml-ship-build"
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
RUNTIME_PACKAGES = ("papermill", "ipykernel", "nbformat")
#: the modules of this package the runner needs inside the image (tested without SQLAlchemy);
#: errors.py: the runner says "no space left on …" as the service does
RUNTIME_FILES = ("__init__.py", "_version.py", "errors.py", "outputs.py", "py.typed",
                 "runner/*.py", "languages/*.py")
#: an R notebook's image without ``r_base_image``: R and IRkernel from the base image's Debian
#: (``--no-install-recommends``: about 45 s once, then a cached layer shared by every R job)
R_PACKAGES = ("r-base-core", "r-cran-irkernel")
#: fixed mtime of generated context entries: same content, same cache key
EPOCH = 315532800
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")


def repository(job: str) -> str:
    """``ml-ship/<job>`` (a job name ending in '-' is not a valid image path: trimmed)."""
    return f"ml-ship/{job.rstrip('-') or 'job'}"


def image_tag(job: str, version: int, digest: str) -> str:
    return f"{repository(job)}:v{version}-{digest[:12]}"


def runtime_requirements() -> str:
    """The runtime pinned to this host's versions, so the container runs what was tested here."""
    from importlib.metadata import PackageNotFoundError, version

    lines = []
    for name in RUNTIME_PACKAGES:
        try:
            lines.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            lines.append(name)
    return "\n".join(lines) + "\n"


def find_uv() -> str | None:
    """A uv binary: beside this interpreter, on PATH, or from the ``uv`` package."""
    beside = Path(sys.executable).with_name("uv")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("uv")
    if found:
        return found
    try:
        from uv import find_uv_bin  # type: ignore[import-not-found]

        return str(find_uv_bin())
    except Exception:
        return None


def _engine_machine(arch: str) -> str:
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)


def choose_installer(setting: str, engine_arch: str = "") -> tuple[str, str | None]:
    """``("uv", path)`` when uv is wanted and usable (same CPU as the engine), else ``("pip", None)``."""
    if setting == "pip":
        return "pip", None
    uv = find_uv()
    if uv and (not engine_arch or _engine_machine(engine_arch) == platform.machine()):
        return "uv", uv
    if setting == "uv":
        raise ValueError("docker_installer is 'uv' but no uv binary for the engine's CPU was found")
    return "pip", None


def read_ca_bundle(path: str) -> bytes:
    """A PEM file, or every ``*.crt``/``*.pem`` of a directory, concatenated."""
    p = Path(path).expanduser()
    if p.is_dir():
        parts = [f.read_bytes().strip() + b"\n" for f in sorted(p.iterdir())
                 if f.suffix in (".crt", ".pem") and f.is_file()]
        data = b"".join(parts)
    else:
        data = p.read_bytes()
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise ValueError(f"ca_bundle {path}: no PEM certificate found")
    return data


@dataclass
class BuildPlan:
    job: str
    version: int
    digest: str
    base_image: str
    lock: str
    lock_source: str
    notebook_file: Path
    ca_bundle: str = ""
    wheelhouse: str = ""
    installer: str = "pip"
    uv_path: str | None = None
    runtime: str = field(default_factory=runtime_requirements)
    #: the version's project files (manifest entries), the blob folder holding them, and the
    #: notebook's folder among them; ``has_project`` False: a version shipped before projects
    has_project: bool = False
    project_files: list[dict[str, Any]] = field(default_factory=list)
    blobs: str = ""
    notebook_dir: str = ""
    #: "uid:gid" owning /job/project: the user the container runs as may write its copy
    owner: str = field(default_factory=lambda: f"{os.getuid()}:{os.getgid()}")
    #: "all": one build; a big project is built in two: "files" (everything up to the project
    #: files, an image of its own) and "notebook" (FROM that image: only the notebook is sent)
    stage: str = "all"
    files_image: str = ""
    #: an image with R and IRkernel for R notebooks (``c.MlShip.docker_r_base_image``); empty:
    #: ``base_image`` with R installed in a layer of its own
    r_base_image: str = ""

    @property
    def split(self) -> bool:
        """Whether the project is big enough to be an image of its own (a notebook-only
        rebuild then sends the engine the notebook, not the whole project again)."""
        return self.stage == "all" and self.has_project and \
            sum(int(f["size"]) for f in self.project_files) > SPLIT_BYTES

    def files_stage(self) -> BuildPlan:
        return replace(self, stage="files")

    def notebook_stage(self) -> BuildPlan:
        return replace(self, stage="notebook", files_image=self.files_stage().tag)

    @property
    def tag(self) -> str:
        if self.stage == "files":
            return f"{repository(self.job)}:files-{self.build_key()[:16]}"
        return image_tag(self.job, self.version, self.digest)

    @property
    def installs_lock(self) -> bool:
        return bool(self.lock.strip()) and self.lock_source != "frozen"

    @property
    def lock_hash(self) -> str:
        return hashlib.sha256(self.lock.encode()).hexdigest() if self.installs_lock else ""

    @property
    def offline(self) -> bool:
        return bool(self.wheelhouse)

    @property
    def needs_r(self) -> bool:
        """An R notebook: its image has R and the IRkernel kernel (``ir``)."""
        try:
            nb = json.loads(self.notebook_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        return isinstance(nb, dict) and language_name(nb) == "r"

    @property
    def system_image(self) -> str:
        return self.r_base_image if self.r_base_image and self.needs_r else self.base_image

    # ---- Dockerfile -----------------------------------------------------------------------

    def _install(self, requirements: str) -> str:
        where = f" --no-index --find-links {STAGING}/wheels" if self.offline else ""
        if self.installer == "uv":
            return (f"NO_COLOR=1 UV_NO_PROGRESS=1 uv pip install --python {VENV}/bin/python "
                    f"--no-cache --compile-bytecode{where} -r {requirements}")
        return (f"{VENV}/bin/pip install --no-cache-dir --disable-pip-version-check --no-input"
                f"{where} -r {requirements}")

    def dockerfile(self, labels: dict[str, str] | None = None) -> str:
        if self.stage == "notebook":
            return self._tail([f"FROM {self.files_image}"], labels)
        lines = [f"FROM {self.system_image} AS system"]
        if self.ca_bundle:
            lines += [
                "COPY ca.crt /usr/local/share/ca-certificates/ml-ship-ca.crt",
                "RUN (command -v update-ca-certificates >/dev/null && update-ca-certificates "
                ">/dev/null 2>&1) || (mkdir -p /etc/ssl/certs && cat "
                f"/usr/local/share/ca-certificates/ml-ship-ca.crt >> {SYSTEM_BUNDLE})",
                f"ENV SSL_CERT_FILE={SYSTEM_BUNDLE} REQUESTS_CA_BUNDLE={SYSTEM_BUNDLE} "
                f"PIP_CERT={SYSTEM_BUNDLE}",
            ]
        if self.offline:  # R in the system stage: the final image is made FROM it
            lines += self._r_layer()
            lines += ["", "FROM system AS build", f"COPY wheels/ {STAGING}/wheels/"]
        if self.installer == "uv":
            lines.append("COPY uv /usr/local/bin/uv")
        venv = f"python3 -m venv {'--without-pip ' if self.installer == 'uv' else ''}{VENV}"
        pth = (f"echo {VENV}/src > \"$({VENV}/bin/python -c 'import sysconfig; "
               "print(sysconfig.get_path(\"purelib\"))')/ml-ship.pth\"")
        lines += [
            f"COPY runtime.txt {STAGING}/runtime.txt",
            f"RUN {venv} && {self._install(f'{STAGING}/runtime.txt')} && {pth}",
        ]
        if self.installs_lock:
            lines += [f"COPY lock.txt {STAGING}/lock.txt",
                      f"RUN {self._install(f'{STAGING}/lock.txt')}"]
        if not self.offline:  # after the runtime: that layer stays shared with Python images
            lines += self._r_layer()
        lines += [f"COPY src/ {VENV}/src/",
                  f"RUN {VENV}/bin/python -m compileall -q {VENV}/src"]
        if self.offline:
            lines += ["", "FROM system", f"COPY --from=build {VENV} {VENV}"]
        if self.has_project:  # its own layer: a notebook-only change leaves it cached
            lines.append(f"COPY --chown={self.owner} project/ {PROJECT}/")
        if self.stage == "files":
            return self._label(lines, labels)
        return self._tail(lines, labels)

    def _r_layer(self) -> list[str]:
        """R and IRkernel from Debian (``--no-install-recommends``), the ``ir`` kernel
        registered system-wide as ``IRkernel::installspec()`` does; none with ``r_base_image``
        (it has them) or for a notebook in another language."""
        if not self.needs_r or self.r_base_image:
            return []
        spec = json.dumps({"argv": ["R", "--slave", "-e", "IRkernel::main()", "--args",
                                    "{connection_file}"], "display_name": "R",
                           "language": "R"})
        return [
            "RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
            f"--no-install-recommends {' '.join(R_PACKAGES)} >/dev/null "
            "&& rm -rf /var/lib/apt/lists/* && mkdir -p /usr/local/share/jupyter/kernels/ir "
            f"&& echo '{spec}' > /usr/local/share/jupyter/kernels/ir/kernel.json",
        ]

    def _tail(self, lines: list[str], labels: dict[str, str] | None) -> str:
        """The last, most often changing part: settings and the notebook."""
        lines += [
            f"ENV PATH={VENV}/bin:$PATH PYTHONUNBUFFERED=1 HOME=/tmp",
            "WORKDIR /job",
            'CMD ["papermill", "/job/notebook.ipynb", "/tmp/output.ipynb"]',
        ]
        if self.has_project:
            lines.append(f"ENV ML_SHIP_PROJECT_DIR={PROJECT} "
                         f"ML_SHIP_NOTEBOOK_DIR={json.dumps(self.notebook_dir)}")
        lines.append("COPY notebook.ipynb /job/notebook.ipynb")
        return self._label(lines, labels)

    @staticmethod
    def _label(lines: list[str], labels: dict[str, str] | None) -> str:
        if labels:
            lines.append("LABEL " + " ".join(f"{json.dumps(k)}={json.dumps(v)}"
                                             for k, v in sorted(labels.items())))
        return "\n".join(lines) + "\n"

    # ---- context --------------------------------------------------------------------------

    def _small_files(self, labels: dict[str, str] | None = None) -> dict[str, bytes]:
        files = {"Dockerfile": self.dockerfile(labels).encode()}
        if self.stage != "files":
            files["notebook.ipynb"] = self.notebook_file.read_bytes()
        if self.stage == "notebook":
            return files
        files["runtime.txt"] = self.runtime.encode()
        if self.ca_bundle:
            files["ca.crt"] = read_ca_bundle(self.ca_bundle)
        if self.installs_lock:
            files["lock.txt"] = self.lock.encode()
        package = Path(__file__).resolve().parents[2]
        for pattern in RUNTIME_FILES:
            for src in sorted(package.glob(pattern)):
                rel = src.relative_to(package).as_posix()
                files[f"src/jupyter_ml_ship/{rel}"] = src.read_bytes()
        return files

    def _big_files(self) -> dict[str, Path]:
        files: dict[str, Path] = {}
        if self.stage == "notebook":
            return files
        if self.installer == "uv" and self.uv_path:
            files["uv"] = Path(self.uv_path)
        if self.offline:
            for f in sorted(Path(self.wheelhouse).expanduser().iterdir()):
                if f.is_file() and f.name.endswith((".whl", ".tar.gz", ".zip")):
                    files[f"wheels/{f.name}"] = f
        return files

    def build_key(self) -> str:
        """Hash of everything the image is made from (big files by name, size and mtime)."""
        if self.split:
            return self.notebook_stage().build_key()
        h = hashlib.sha256(self.system_image.encode())
        for name, data in sorted(self._small_files().items()):
            h.update(f"\0{name}\0".encode() + hashlib.sha256(data).digest())
        for name, path in sorted(self._big_files().items()):
            st = path.stat()
            h.update(f"\0{name}\0{st.st_size}\0{st.st_mtime_ns}".encode())
        for f in self.project_files if self.stage != "notebook" else []:  # by content
            h.update(f"\0project/{f['path']}\0{f['sha256']}\0{bool(f.get('executable'))}".encode())
        return h.hexdigest()

    def labels(self, build_key: str) -> dict[str, str]:
        if self.stage == "files":  # not a version's image: listed and pruned with none
            return {"ml-ship.files-of": self.job, LABEL_BUILD: build_key}
        return {
            LABEL_JOB: self.job, LABEL_VERSION: str(self.version), LABEL_DIGEST: self.digest,
            LABEL_LOCK: self.lock_hash, LABEL_BUILD: build_key,
            "ml-ship.base-image": self.system_image, "ml-ship.lock-source": self.lock_source,
            "ml-ship.offline": "true" if self.offline else "false",
        }

    @contextmanager
    def context_tar(self, labels: dict[str, str]) -> Iterator[IO[bytes]]:
        """The build context as an uncompressed tar in a temporary file (never the wheels' copy)."""
        with tempfile.TemporaryFile(prefix="ml-ship-context-") as fh:
            with tarfile.open(fileobj=fh, mode="w", format=tarfile.PAX_FORMAT) as tar:
                for name, data in sorted(self._small_files(labels).items()):
                    info = tarfile.TarInfo(name)
                    info.size, info.mtime, info.mode = len(data), EPOCH, 0o644
                    tar.addfile(info, io.BytesIO(data))
                for name, path in sorted(self._big_files().items()):
                    info = tar.gettarinfo(str(path), arcname=name)
                    info.mtime, info.uid, info.gid, info.uname, info.gname = EPOCH, 0, 0, "", ""
                    info.mode = 0o755 if name == "uv" else 0o644
                    with open(path, "rb") as src:
                        tar.addfile(info, src)
                if self.has_project and self.stage != "notebook":
                    self._add_project(tar)
            fh.seek(0)
            yield fh

    def _add_project(self, tar: tarfile.TarFile) -> None:
        folder = tarfile.TarInfo("project")
        folder.type, folder.mode, folder.mtime = tarfile.DIRTYPE, 0o755, EPOCH
        tar.addfile(folder)  # an empty project still makes the folder
        blobs = Path(self.blobs)
        for f in sorted(self.project_files, key=lambda f: f["path"]):
            sha = f["sha256"]
            info = tarfile.TarInfo(f"project/{f['path']}")
            info.size, info.mtime = int(f["size"]), EPOCH
            info.mode = 0o755 if f.get("executable") else 0o644
            with open(blobs / sha[:2] / sha[2:], "rb") as src:
                tar.addfile(info, src)

    def describe(self) -> str:
        lock = ("runtime only (lock frozen from the kernel environment)"
                if self.lock_source == "frozen" and self.lock.strip() else
                f"{len(self.lock.splitlines())} requirement(s) from {self.lock_source}"
                if self.installs_lock else "runtime only")
        mode = "offline from the wheelhouse" if self.offline else "from the package index"
        r = "; R and IRkernel" + ("" if self.r_base_image else " (apt layer)") \
            if self.needs_r else ""
        return f"base {self.system_image}{r}; {lock}; {self.installer} {mode}"


def proxy_buildargs() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k in PROXY_VARS and v}


def plan_from_json(data: dict[str, Any]) -> BuildPlan:
    fields = {k: v for k, v in data.items() if k in BuildPlan.__dataclass_fields__}
    fields["notebook_file"] = Path(fields["notebook_file"])
    return BuildPlan(**fields)


def plan_to_json(plan: BuildPlan) -> dict[str, Any]:
    d = {k: getattr(plan, k) for k in BuildPlan.__dataclass_fields__}
    d["notebook_file"] = str(plan.notebook_file)
    return json.loads(json.dumps(d))
