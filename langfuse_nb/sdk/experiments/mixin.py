"""Experiment and batch-evaluation methods of the Langfuse client (placeholder until implemented)."""


class ExperimentsMixin:
    pass
