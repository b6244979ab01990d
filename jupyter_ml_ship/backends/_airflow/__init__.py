"""Pieces of the ``airflow`` backend (``backends/airflow.py``).

- ``dag`` (+ ``dag.py.j2``): the generator of one readable DAG file per pipeline or job version
- ``build``: a shipped version to a ``DagSpec``, the step images, the DAG file written atomically
- ``client``: Airflow's REST API v2 (token from ``/auth/token``; credentials never logged)
- ``sync``: one task instance into one run directory (log, state, result, output notebook)
- ``mirror``: a pipeline run scheduled by Airflow, mirrored into our pipeline and step records
- ``follow``: the detached process that triggers and follows a single job's DAG run
"""
