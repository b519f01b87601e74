"""Progress bars for long runs: ``tqdm.auto`` (a widget in notebooks, text elsewhere).

Switch: the ``progress=`` argument of ``run_experiment``/``run_batched_evaluation`` (True/False),
else the env var ``LANGFUSE_NB_PROGRESS`` (``0``/``false``/``off`` disables, ``1``/``true``/``on``
forces), else automatic: a bar appears once a run reaches ``AUTO_THRESHOLD`` items.
"""

from __future__ import annotations

import contextlib
from typing import Any

from langfuse_nb._settings import env_setting

AUTO_THRESHOLD = 10


def resolve(progress: bool | None) -> bool | None:
    """True/False when decided, None for "automatic"."""
    if progress is not None:
        return progress
    setting: bool | None = env_setting("LANGFUSE_NB_PROGRESS")  # the one parsing rule (_settings)
    return setting


class Progress:
    """Counts finished items; creates the bar lazily, so short automatic runs never show one."""

    def __init__(self, setting: bool | None, *, total: int | None, desc: str) -> None:
        self._setting = setting
        self._total = total
        self._desc = desc
        self._bar: Any = None
        self._count = 0
        self._postfix: dict[str, Any] = {}

    def update(self, n: int = 1) -> None:
        self._count += n
        bar = self._bar
        if bar is not None:
            bar.update(n)
        elif self._setting is not False and self._start():  # a disabled bar costs one test per item
            self._bar.update(self._count)  # type: ignore[attr-defined]  # _start() made it

    def set_postfix(self, **values: Any) -> None:
        self._postfix = values
        if self._bar is not None:
            self._bar.set_postfix(values, refresh=False)

    def _start(self) -> bool:
        if self._setting is False:
            return False
        if self._setting is None and max(self._count, self._total or 0) < AUTO_THRESHOLD:
            return False
        try:
            from tqdm.auto import tqdm  # type: ignore[import-untyped]
        except ImportError:  # tqdm is a dependency, but a missing bar must never break a run
            self._setting = False
            return False
        self._bar = tqdm(total=self._total, desc=self._desc, unit="item", leave=True)
        return True

    def close(self, *, completed: bool = False) -> None:
        """End the bar; ``completed`` runs end at the real count (a notebook bar then turns green).

        The total given up front can be a guess (``max_items``): a run that finished with fewer items
        must not end as a red "6% 3/50" bar, which tqdm shows whenever ``n < total`` at close.
        """
        if self._bar is not None:
            with contextlib.suppress(Exception):
                if completed:
                    _settle_total(self._bar, self._count)
                self._bar.set_postfix(self._postfix, refresh=False)
                self._bar.close()
            self._bar = None


def _settle_total(bar: Any, count: int) -> None:
    bar.total = count
    container = getattr(bar, "container", None)  # tqdm.notebook: (label, IntProgress, text) widgets
    if container is not None and len(container.children) > 1:
        container.children[1].max = max(count, 1)
    bar.refresh()
