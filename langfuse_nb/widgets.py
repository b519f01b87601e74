"""Public notebook widgets: ``from langfuse_nb.widgets import PromptBrowser``."""

from langfuse_nb.notebook.annotate import AnnotationItem
from langfuse_nb.notebook.widgets.annotator import Annotator, annotate
from langfuse_nb.notebook.widgets.prompts import PromptBrowser, PromptList
from langfuse_nb.notebook.widgets.traces import TraceList

__all__ = ["AnnotationItem", "Annotator", "PromptBrowser", "PromptList", "TraceList", "annotate"]
