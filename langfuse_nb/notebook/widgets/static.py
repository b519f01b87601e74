"""Widgets that also carry a static HTML copy of what they show.

A live widget is a model in the kernel; a saved notebook, nbconvert's HTML, nbviewer and GitHub have no
kernel and (unless widget state was saved) nothing to draw from. So every display bundle of these widgets
holds both the widget view and ``text/html`` of the current content: front ends with a widget manager
(JupyterLab, Notebook 7, VS Code) prefer the widget view, everything else shows the HTML.

Shown through :meth:`StaticMirror.show_live` (the magics do that), its output keeps a display id and
:meth:`StaticMirror.sync_static` rewrites the saved HTML after each change that matters (a save, a
refresh, another version opened), so the notebook file always holds the latest content.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

logger = logging.getLogger("langfuse_nb")


class StaticMirror:
    """Mixin for ``ipywidgets`` widgets: ``static_html()`` is the text/html twin of the live view."""

    _display_handle: Any = None

    def static_html(self) -> str:
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        bundle = dict(super()._repr_mimebundle_(**kwargs) or {})  # type: ignore[misc]
        try:
            bundle["text/html"] = self.static_html()
        except Exception:  # noqa: BLE001 - the live widget must still show when the copy fails
            logger.debug("static copy of a widget failed", exc_info=True)
        return bundle

    def show_live(self) -> None:
        """Display the widget with a display id, so later changes also update its saved copy."""
        from IPython.display import display

        self._display_handle = display(self, display_id=True)

    def sync_static(self) -> None:
        """Rewrite the saved copy of this widget's output (no-op unless shown through ``show_live()``)."""
        handle = self._display_handle
        if handle is None:
            return
        with contextlib.suppress(Exception):  # a closed kernel channel must not break a handler
            handle.update(self)
