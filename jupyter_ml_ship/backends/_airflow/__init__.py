"""Pieces of the ``airflow`` backend (``backends/airflow.py``).

- ``dag``: the DAG generator (``dag.py.j2``): one readable DAG file per pipeline or job version
- ``client``: Airflow's REST API v2 (token from ``/auth/token``; credentials never logged)
- ``mirror``: a pipeline run scheduled by Airflow, mirrored into our pipeline and step records
"""
