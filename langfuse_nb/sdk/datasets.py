"""Dataset methods of the Langfuse client (placeholder until implemented)."""


class DatasetsMixin:
    pass
