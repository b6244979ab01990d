"""Pipelines: notebooks chained into a versioned DAG, run in parallel with values passed on.

- ``spec``: the ``*.pipeline.yaml`` format (and folders of notebooks), structural checks
- ``templates``: ``{{ params.Z }}`` / ``{{ steps.X.outputs.Y }}`` (sandboxed Jinja2)
- ``analysis``: a notebook's declared outputs and parameters, read without running it
- ``versions``: shipping, content-addressed versions, rollback
- ``executor``: ``advance()`` — the idempotent scheduling pass; cancel; cache
- ``scheduler``: the detached process that drives one pipeline run

The service methods (``ShipService.run_pipeline`` …) are in ``core.pipelines``.
"""

from .models import (
    PipelineDescription,
    PipelineInfo,
    PipelineRunInfo,
    PipelineVersionInfo,
    ShipPipelineResult,
    StartPipelineRunRequest,
    StepInfo,
)
from .spec import load_pipeline

__all__ = [
    "PipelineDescription", "PipelineInfo", "PipelineRunInfo", "PipelineVersionInfo",
    "ShipPipelineResult", "StartPipelineRunRequest", "StepInfo", "load_pipeline",
]
