"""Processors run pipelines on a runtime. Custom processors import what they need from here."""

from ..model import Issue, Node, Pipeline
from .base import PipelineProcessor, RemoteState, RunContext, RunOutcome, RunStatus

__all__ = ["Issue", "Node", "Pipeline", "PipelineProcessor", "RemoteState", "RunContext", "RunOutcome", "RunStatus"]
