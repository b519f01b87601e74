"""Prompt management methods of the Langfuse client (placeholder until implemented)."""


class PromptsMixin:
    pass
