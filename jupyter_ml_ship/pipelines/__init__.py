"""Pipelines, the pure part: what a pipeline file says, with no store and no service.

- ``spec``: the ``*.pipeline.yaml`` format (and folders of notebooks), structural checks
- ``templates``: ``{{ params.Z }}`` / ``{{ steps.X.outputs.Y }}`` / ``{{ steps.X.files['P'] }}``
- ``analysis``: a notebook's declared outputs and parameters, read without running it
- ``models``: the public models of pipelines and their runs

The engine that writes pipeline state (versions, runs, the executor, the scheduler process) is
``core.engine``; the service methods (``ShipService.run_pipeline`` …) are in ``core._pipeline_service``.
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
