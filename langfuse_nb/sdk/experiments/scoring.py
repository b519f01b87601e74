"""Scores of an experiment or a batch evaluation: each evaluation becomes one score-create event."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from langfuse_nb.sdk.experiments.evaluation import Evaluation

if TYPE_CHECKING:
    from langfuse_nb.sdk.client import Langfuse

logger = logging.getLogger("langfuse_nb")


class ScoreBurst:
    """Score events of a run's items, handed to the score channel once per event-loop iteration.

    Queued one at a time as items finish, the scores of a fast run wake the channel's thread every 15
    scores (its batch size) for a request of 15, which costs more than building the scores. Held until
    the loop next runs its callbacks, they go out together, in one request of up to 500. Each event is
    stamped when its evaluation is done; none waits longer than the loop's next turn, and the run
    releases what is left when it ends or is interrupted.
    """

    def __init__(self, client: Langfuse) -> None:
        self._client = client
        self._events: list[dict[str, Any]] = []
        self._scheduled = False

    def add(self, evaluation: Evaluation, **target: Any) -> bool:
        """Build the score of ``evaluation`` now and queue it at the loop's next turn; False when not sent."""
        return self.add_for(evaluation, target)

    def add_for(self, evaluation: Evaluation, target: dict[str, Any]) -> bool:
        """``add`` with the target ids (``trace_id``, ``observation_id``, ...) as one dict."""
        if evaluation.value is None:
            logger.debug("langfuse_nb: evaluation %s has no value; not sent as a score", evaluation.name)
            return False
        try:
            event = self._client._score_event_of(_score_fields(evaluation, target))
        except Exception as exc:
            logger.error("langfuse_nb: could not create score %s: %s", evaluation.name, exc)
            return False
        if event is not None:
            self._events.append(event)
            if not self._scheduled:
                asyncio.get_running_loop().call_soon(self.release)
                self._scheduled = True
        return True

    def release(self) -> None:
        """Queue every held event now (also called when the run ends, however it ends)."""
        self._scheduled = False
        events, self._events = self._events, []
        if events:
            try:
                self._client._queue_score_events(events)
            except Exception:  # telemetry never fails the run
                logger.warning("langfuse_nb: could not queue %d scores", len(events), exc_info=True)


def _score_fields(evaluation: Evaluation, target: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": evaluation.name,
        "value": evaluation.value,
        "comment": evaluation.comment,
        "metadata": evaluation.metadata,
        "data_type": evaluation.data_type,
        "config_id": evaluation.config_id,
        **target,
    }


def send_score(client: Langfuse, evaluation: Evaluation, **target: Any) -> bool:
    """Queue one score for ``evaluation`` (non-blocking); False when it was not sent."""
    if evaluation.value is None:
        logger.debug("langfuse_nb: evaluation %s has no value; not sent as a score", evaluation.name)
        return False
    try:
        client.create_score(
            name=evaluation.name,
            value=evaluation.value,
            comment=evaluation.comment,
            metadata=evaluation.metadata,
            data_type=evaluation.data_type,  # type: ignore[arg-type]  # validated by create_score
            config_id=evaluation.config_id,
            **target,
        )
    except Exception as exc:
        logger.error("langfuse_nb: could not create score %s: %s", evaluation.name, exc)
        return False
    return True
