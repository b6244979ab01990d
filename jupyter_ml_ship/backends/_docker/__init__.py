"""Internals of the ``docker`` backend.

- ``engine``: connecting to the engine, with short timeouts and readable errors;
- ``context``: the build plan of a version's image (Dockerfile, context tar, tag, labels);
- ``build``: building it once (cached, locked), streaming the output into the run's log;
- ``supervisor``: the detached process that builds, runs and collects one run's container;
- ``images``: listing and pruning job images.
"""
