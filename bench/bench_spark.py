"""A PySpark notebook run by ml-ship on a real standalone cluster (a master and two 1-core
workers from pyspark's jars on 127.0.0.1, tests/python/spark_harness.py) vs ``spark-submit`` of
the same code as a script, with the same master and settings. Target: ours <= 1.3x.

    .venv/bin/python bench/bench_spark.py [--pairs 3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import nbformat  # noqa: E402
from _util import BIN, env_with, load, ratio, report, rotating, timed  # noqa: E402
from nbformat.v4 import new_code_cell, new_notebook  # noqa: E402

from jupyter_ml_ship.runner._spark import session_conf  # noqa: E402
from tests.python.spark_harness import spark_home, start_cluster, usable  # noqa: E402

WORK = "total = spark.sparkContext.parallelize(range(200_000), 4).map(lambda x: x * x).sum()\n" \
       "print('total', total)\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=3)
    args = ap.parse_args()
    ok, why = usable()
    if not ok:
        raise SystemExit(f"spark: {why}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        cluster = start_cluster(tmp / "cluster", workers=2)
        try:
            spark = {"master": cluster.master_url, "executors": 2, "memory": "512m"}
            nb = new_notebook(metadata={"kernelspec": {"name": "python3", "language": "python",
                                                       "display_name": "Python 3"},
                                        "ml_ship": {"spark": spark}})
            nb.cells = [new_code_cell(WORK)]
            path = tmp / "spark_bench.ipynb"
            nbformat.write(nb, str(path))
            # the same code as a script: the session made as the runner's cell makes it
            conf = session_conf({**spark, "conf": {}}, tmp / "submit")
            (tmp / "submit" / "spark" / "events").mkdir(parents=True)
            script = tmp / "spark_bench.py"
            script.write_text("from pyspark.sql import SparkSession\n"
                              "spark = SparkSession.builder.appName('bench').getOrCreate()\n"
                              + WORK + "spark.stop()\n")
            submit = [str(spark_home() / "bin" / "spark-submit"), "--master", cluster.master_url]
            for key, value in conf.items():
                submit += ["--conf", f"{key}={value}"]
            submit.append(str(script))
            env = env_with(ML_SHIP_HOME=str(tmp / "home"), PYSPARK_PYTHON=sys.executable,
                           SPARK_HOME=str(spark_home()))
            timed([str(BIN / "ml-ship"), "ship", str(path), "--name", "sparkbench"], env)
            ours_cmd = [str(BIN / "ml-ship"), "run", "sparkbench", "--wait"]
            before = load()
            times = rotating({"ours": (ours_cmd, env), "submit": (submit, env)}, args.pairs)
        finally:
            cluster.stop()
    ours, theirs = times["ours"], times["submit"]
    print(f"a PySpark notebook on a standalone cluster (2 workers), {args.pairs} rounds "
          "(median):")
    report([
        ("ml-ship run --wait (local backend)", f"{ours:.2f} s"),
        ("spark-submit of the same code", f"{theirs:.2f} s"),
        ("ratio ours / spark-submit", ratio(ours, theirs, "<= 1.3")),
        ("machine", f"before: {before}; after: {load()}"),
    ])


if __name__ == "__main__":
    main()
