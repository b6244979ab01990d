"""An environment per version (local backend): `ml-ship run --wait` of a version that pins a
package, first run (its uv environment made with a cold uv cache, offline from a wheelhouse) and
cached runs, against the same notebook without requirements (the server's environment); target
cached <= 1.2x.

Rotating rounds in one process so machine load hits both alike; prints medians, the ratios and
the machine load. The wheelhouse (ipykernel and its dependencies, and a tiny package made here)
is filled once with `pip wheel` before anything is timed.
Usage: python bench/bench_envs.py [--pairs 6]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _util import (  # noqa: E402
    BIN,
    Command,
    env_with,
    load,
    median,
    notebook,
    ratio,
    report,
    rotating_times,
    timed,
)

CODE = "import mlshiptiny\nprint(mlshiptiny.VERSION, n)"


def tiny_wheel(folder: Path, name: str, version: str) -> None:
    dist = f"{name}-{version}.dist-info"
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as whl:
        files = {f"{name}.py": f"VERSION = {version!r}\n",
                 f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
                 f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\n"
                                  "Tag: py3-none-any\n"}
        files[f"{dist}/RECORD"] = "".join(f"{p},,\n" for p in files) + f"{dist}/RECORD,,\n"
        for path, text in files.items():
            whl.writestr(path, text)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=6)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        wheels = tmp / "wheels"
        subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "-w", str(wheels),
                        "ipykernel"], check=True, capture_output=True)
        tiny_wheel(wheels, "mlshiptiny", "1.0")
        # the server's environment has no mlshiptiny: the plain notebook is the same minus it
        pinned = notebook(tmp / "pinned" / "pinned.ipynb", CODE)
        (pinned.parent / "requirements.txt").write_text("mlshiptiny==1.0\n")
        plain = notebook(tmp / "plain" / "plain.ipynb", "print(n)")
        env = env_with(ML_SHIP_HOME=str(tmp / "home"), ML_SHIP_WHEELHOUSE=str(wheels),
                       ML_SHIP_WARM_RUNNER="0", UV_CACHE_DIR=str(tmp / "uv-cache"))
        for nb in (pinned, plain):
            timed([str(BIN / "ml-ship"), "ship", str(nb)], env)
        before = load()
        first = timed([str(BIN / "ml-ship"), "run", "pinned", "--wait"], env)  # cold uv cache
        timed([str(BIN / "ml-ship"), "run", "plain", "--wait"], env)  # page cache, bytecode

        def run(name: str) -> Callable[[int], Command]:
            return lambda i: ([str(BIN / "ml-ship"), "run", name, "--wait", "-p", "n", str(i)],
                              env)

        times = rotating_times({"pinned": run("pinned"), "plain": run("plain")}, args.pairs,
                               warm_up=False)
        cached, server = median(times["pinned"]), median(times["plain"])
        print(f"environment per version (local backend, cold runner), {args.pairs} rotating "
              "rounds (median):")
        report([
            ("first run, env made (cold uv cache, wheelhouse)", f"{first:.3f} s"),
            ("cached run (the version's env)", f"{cached:.3f} s"),
            ("run in the server's environment", f"{server:.3f} s"),
            ("ratio first / server", ratio(first, server)),
            ("ratio cached / server", ratio(cached, server, "<= 1.2")),
            ("machine", f"before: {before}; after: {load()}"),
        ])


if __name__ == "__main__":
    main()
