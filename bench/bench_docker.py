"""The docker backend: image build cache and run overhead, against a real engine.

1. Cold build of a version's image (no layer cache) against the rebuild after a notebook-only
   (markdown) edit; target ratio <= 0.15.
2. A run through the docker backend (``ShipService.run`` + ``wait``, image already built) against
   ``docker run --rm`` of the same image with the plain ``papermill`` command; target <= 1.15.
   The ``ml-ship run --backend docker --wait`` CLI is timed as well (it adds a Python start).

Alternating, medians. Needs the engine and the base image (``scripts/docker-up.sh``).
Usage: python bench/bench_docker.py [--builds 3] [--pairs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _util import BIN, REPO, env_with, median, report, timed  # noqa: E402

from jupyter_ml_ship.backends._docker.build import ensure_image  # noqa: E402
from jupyter_ml_ship.backends.docker import DockerBackend  # noqa: E402
from jupyter_ml_ship.config import MlShip  # noqa: E402
from jupyter_ml_ship.core import ShipService  # noqa: E402

BASE = os.environ.get("ML_SHIP_DOCKER_BASE_IMAGE") or "ml-ship/base:bookworm"


def ca_bundle() -> str:
    local = Path("/usr/local/share/ca-certificates")
    return os.environ.get("ML_SHIP_CA_BUNDLE") or (str(local) if any(local.glob("*.crt")) else "")


def edited(src: Path, dst: Path, text: str) -> Path:
    nb = json.loads(src.read_text())
    nb["cells"][0]["source"] = [text]
    dst.write_text(json.dumps(nb))
    return dst


def build_once(svc: ShipService, nb: Path, job: str, text: str, nocache: bool,
               backend: Any = None) -> float:
    result = svc.ship(edited(REPO / "examples" / "hello.ipynb", nb, text), name=job)
    v = svc.version(job, result.version.number)
    backend = backend or svc.backend("docker")
    plan = backend.plan(job, v.number, v.digest, v.environment, "none",
                        svc.version_notebook(job, v.number), v.config)
    lines: list[str] = []
    start = time.perf_counter()
    _tag, built = ensure_image(backend.client(), plan, lines.append,
                               svc.home / "docker" / "locks", nocache=nocache)
    elapsed = time.perf_counter() - start
    if not built:
        raise SystemExit(f"expected a build for {job} v{v.number}:\n" + "\n".join(lines))
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--builds", type=int, default=3)
    ap.add_argument("--pairs", type=int, default=7)
    ap.add_argument("--installers", type=int, default=0,
                    help="also this many alternating cold builds with pip and with uv")
    args = ap.parse_args()
    docker_cli = shutil.which("docker")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        settings = MlShip(home=str(tmp / "home"), freeze_environment=False,
                          docker_base_image=BASE, ca_bundle=ca_bundle(), wheelhouse="")
        svc = ShipService(settings)
        backend = svc.backend("docker")
        ok, why = backend.available()
        if not ok:
            raise SystemExit(f"docker backend not available: {why}")
        job = f"bench-docker-{os.getpid()}"
        nb = tmp / "hello.ipynb"
        cold, warm = [], []
        try:
            for i in range(args.builds):
                cold.append(build_once(svc, nb, job, f"# cold {i}", nocache=True))
                warm.append(build_once(svc, nb, job, f"# notebook-only edit {i}", nocache=False))
                print(f"  build round {i + 1}: cold {cold[-1]:.1f} s, rebuild {warm[-1]:.2f} s",
                      file=sys.stderr)

            by_installer: dict[str, list[float]] = {"pip": [], "uv": []}
            for i in range(args.installers):
                for name in ("pip", "uv"):
                    values = {k: getattr(settings, k) for k in settings.traits(config=True)}
                    other = DockerBackend(MlShip(**{**values, "docker_installer": name}))
                    by_installer[name].append(build_once(svc, nb, job, f"# {name} {i}", True,
                                                         other))
                print(f"  installer round {i + 1}: pip {by_installer['pip'][-1]:.1f} s, uv "
                      f"{by_installer['uv'][-1]:.1f} s", file=sys.stderr)

            # run overhead: the current version's image exists; both sides run the same notebook
            first = svc.wait(svc.run(job, backend="docker").id, timeout=600)
            assert first.status == "succeeded", first.error
            image = next(i["image"] for i in backend.images(job) if i["tags"])
            ours, plain, cli = [], [], []
            env = env_with(ML_SHIP_HOME=str(tmp / "home"), ML_SHIP_DOCKER_BASE_IMAGE=BASE,
                           ML_SHIP_CA_BUNDLE=settings.ca_bundle)
            for i in range(args.pairs):
                start = time.perf_counter()
                info = svc.wait(svc.run(job, backend="docker", parameters={"name": f"r{i}"}).id,
                                timeout=300)
                ours.append(time.perf_counter() - start)
                assert info.status == "succeeded", info.error
                cmd = ["run", "--rm", "--network", "none", image, "papermill",
                       "/job/notebook.ipynb", "/tmp/out.ipynb", "-p", "name", f"p{i}"]
                if docker_cli:
                    plain.append(timed([docker_cli, *cmd]))
                else:  # pragma: no cover - no docker CLI: the SDK does the same
                    start = time.perf_counter()
                    backend.client().containers.run(image, cmd[5:], remove=True,
                                                    network_mode="none")
                    plain.append(time.perf_counter() - start)
                cli.append(timed([str(BIN / "ml-ship"), "run", job, "--backend", "docker",
                                  "--wait", "-p", "name", f"c{i}"], env))
                print(f"  run pair {i + 1}: ml-ship {ours[-1]:.2f} s, docker run "
                      f"{plain[-1]:.2f} s, CLI {cli[-1]:.2f} s", file=sys.stderr)
        finally:
            client = backend.client()
            for image in client.images.list(filters={"label": f"ml-ship.job={job}"}):
                for tag in image.tags:
                    client.images.remove(tag, force=True, noprune=True)
            svc.close()
    rows = []
    if args.installers:
        rows = [("cold build with pip, median", f"{median(by_installer['pip']):.1f} s"),
                ("cold build with uv, median", f"{median(by_installer['uv']):.1f} s")]
    report(rows + [
        ("cold build (no cache), median", f"{median(cold):.1f} s"),
        ("rebuild after a markdown edit, median", f"{median(warm):.2f} s"),
        ("rebuild / cold (target <= 0.15)", f"{median(warm) / median(cold):.3f}"),
        ("run via the docker backend (API), median", f"{median(ours):.2f} s"),
        ("docker run --rm ... papermill, median", f"{median(plain):.2f} s"),
        ("backend / docker run (target <= 1.15)", f"{median(ours) / median(plain):.3f}"),
        ("ml-ship run --backend docker --wait (CLI)", f"{median(cli):.2f} s"),
        ("CLI / docker run", f"{median(cli) / median(plain):.3f}"),
    ])


if __name__ == "__main__":
    main()
