"""The pipeline models, at home in ``jupyter_ml_ship.models.pipelines`` (one base, one home for
every wire model); imported from here by the pipeline readers and their callers."""

from __future__ import annotations

from ..models.pipelines import (
    PIPELINE_DONE,
    STEP_ACTIVE,
    STEP_BLOCKING,
    STEP_DONE,
    PipelineDescription,
    PipelineInfo,
    PipelineList,
    PipelineRunInfo,
    PipelineRunList,
    PipelineRunStatus,
    PipelineRunStatusEvent,
    PipelineVersionInfo,
    PipelineVersionList,
    ShipPipelineRequest,
    ShipPipelineResult,
    StartPipelineRunRequest,
    StepInfo,
    StepStatus,
)

__all__ = ['PIPELINE_DONE', 'PipelineDescription', 'PipelineInfo', 'PipelineList', 'PipelineRunInfo', 'PipelineRunList', 'PipelineRunStatus', 'PipelineRunStatusEvent', 'PipelineVersionInfo', 'PipelineVersionList', 'STEP_ACTIVE', 'STEP_BLOCKING', 'STEP_DONE', 'ShipPipelineRequest', 'ShipPipelineResult', 'StartPipelineRunRequest', 'StepInfo', 'StepStatus']
