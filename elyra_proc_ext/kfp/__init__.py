"""The Kubeflow Pipelines runtime: compile, stage to object storage, submit, follow the run."""
