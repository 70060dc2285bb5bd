"""Processors run pipelines on a runtime. Custom processors import what they need from here, including the error
classes: raise one (or a subclass) for a failure the user can fix and the REST API answers with its status."""

from ..errors import (
    BadRequestError,
    ConflictError,
    ElyraProcError,
    NotFoundError,
    UnsupportedError,
    UpstreamError,
)
from ..model import Issue, Node, Pipeline
from .base import PipelineProcessor, RemoteState, RunContext, RunOutcome, RunStatus

__all__ = ["BadRequestError", "ConflictError", "ElyraProcError", "Issue", "Node", "NotFoundError", "Pipeline",
           "PipelineProcessor", "RemoteState", "RunContext", "RunOutcome", "RunStatus", "UnsupportedError",
           "UpstreamError"]
