"""Direct tests of the reference behaviours restored for issue 11 (the corpus shows them side by side too)."""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_langfuse import FakeLangfuse  # noqa: E402

from langfuse_nb import Langfuse  # noqa: E402
from langfuse_nb.errors import Error  # noqa: E402


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def langfuse_logger() -> Iterator[tuple[logging.Logger, _Records]]:
    """The reference's logger name, with a handler; its level and handlers are restored afterwards."""
    logger = logging.getLogger("langfuse")
    records = _Records()
    saved = (logger.level, logger.propagate)
    logger.addHandler(records)
    yield logger, records
    logger.removeHandler(records)
    logger.setLevel(saved[0])
    logger.propagate = saved[1]


@pytest.fixture
def fake() -> Iterator[FakeLangfuse]:
    server = FakeLangfuse().start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def no_langfuse_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY", "LANGFUSE_BASE_URL", "LANGFUSE_HOST"):
        monkeypatch.delenv(name, raising=False)


def test_configuring_the_langfuse_logger_configures_ours(langfuse_logger: Any) -> None:
    import langfuse_nb.logger

    logger, records = langfuse_logger
    ours = langfuse_nb.logger.langfuse_logger
    assert ours is logging.getLogger("langfuse_nb")
    logger.setLevel(logging.ERROR)
    ours.warning("below the level set on 'langfuse'")
    ours.error("an error")
    assert records.messages == ["an error"]
    logger.setLevel(logging.DEBUG)
    ours.debug("now visible")
    assert records.messages[-1] == "now visible"


def test_the_client_logs_reach_the_langfuse_logger(langfuse_logger: Any) -> None:
    _, records = langfuse_logger
    Langfuse(base_url="http://127.0.0.1:9")  # no keys: the reference's warning
    assert records.messages[-1].startswith(
        "langfuse_nb: Authentication error: Langfuse client initialized "
        "without public_key. Client will be disabled."
    )


def test_keyless_client_sends_no_request(fake: FakeLangfuse) -> None:
    client = Langfuse(base_url=f"{fake.url}/nokey")
    with pytest.raises(Error, match="SDK is not correctly initialized"):
        client.get_prompt("p")
    assert client.get_prompt("p", fallback="Hi {{x}}").compile(x="you") == "Hi you"
    with pytest.raises(Error, match="SDK is not correctly initialized"):
        client.create_prompt(name="p", prompt="x")
    with pytest.raises(Error, match="SDK is not correctly initialized"):
        client.get_dataset("d")
    assert client.auth_check() is False
    assert client.get_trace_url(trace_id="a" * 32) is None
    client.flush()
    assert fake.by_key == {}


def test_deprecation_and_event_update_texts(fake: FakeLangfuse, langfuse_logger: Any) -> None:
    _, records = langfuse_logger
    client = Langfuse(public_key="pk-lf-texts", secret_key="sk", base_url=fake.url)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client.start_generation(name="g").end()
    assert [str(w.message) for w in caught] == [
        "start_generation is deprecated and will be removed in a future version. "
        "Use start_observation(as_type='generation') instead."
    ]
    client.create_event(name="e").update(output="x")
    assert records.messages[-1] == (
        "langfuse_nb: Attempted to update LangfuseEvent observation. Events cannot be updated after creation."
    )
    client.shutdown()


def test_unknown_observation_type_falls_back_to_a_span(fake: FakeLangfuse) -> None:
    client = Langfuse(public_key="pk-lf-unknown-type", secret_key="sk", base_url=fake.url)
    obs = client.start_observation(name="x", as_type="nonsense")  # type: ignore[call-overload]
    assert type(obs).__name__ == "LangfuseSpan"
    obs.end()
    client.flush()
    assert fake.of("pk-lf-unknown-type")["spans"][0]["attributes"]["langfuse.observation.type"] == "span"
    client.shutdown()


def test_batch_evaluation_counts_every_fetched_item(fake: FakeLangfuse) -> None:
    from langfuse_nb import Evaluation, EvaluatorInputs

    client = Langfuse(public_key="pk-lf-batch-count", secret_key="sk", base_url=fake.url)

    def mapper(*, item: Any, **_: Any) -> EvaluatorInputs:
        return EvaluatorInputs(input=item.input, output=item.output)

    result = client.run_batched_evaluation(
        scope="traces",
        mapper=mapper,
        max_items=3,
        fetch_batch_size=2,
        evaluators=[lambda **_: Evaluation(name="n", value=1)],
    )
    # two pages of two traces were fetched; three were evaluated (max_items), as the reference counts
    assert (result.total_items_fetched, result.total_items_processed) == (4, 3)
    client.shutdown()


def test_the_sdk_objects_never_put_the_secret_key_into_a_trace(fake: FakeLangfuse) -> None:
    from langfuse_nb import observe
    from langfuse_nb.sdk.serialize import dumps

    client = Langfuse(public_key="pk-lf-secret-check", secret_key="sk-lf-NEVER-SENT", base_url=fake.url)
    context = client.start_as_current_span(name="holder")  # an ObservationContext holds the client too
    assert dumps(context) == '"<ObservationContext>"'
    with context as span:
        values = [client, span, client._settings, client.api, {"nested": [client]}]
        assert not [v for v in values if "NEVER-SENT" in dumps(v)]

    @observe(name="takes-the-client")
    def handler(langfuse: Any, span: Any) -> Any:
        return {"client": langfuse, "span": span}

    # named key: with several clients registered (earlier tests), a keyless @observe call is not traced
    handler(client, span, langfuse_public_key="pk-lf-secret-check")
    client.flush()
    spans = {s["name"]: s for s in fake.of("pk-lf-secret-check")["spans"]}
    attributes = spans["takes-the-client"]["attributes"]
    assert "NEVER-SENT" not in repr(fake.of("pk-lf-secret-check"))
    assert "<Langfuse public_key='pk-lf-secret-check'" in attributes["langfuse.observation.input"]
    client.shutdown()


def test_every_credential_carrier_the_serializer_names_exists() -> None:
    """The serializer finds the key-holding classes by module and name: a class moved to another module
    without updating that table would be walked attribute by attribute again, secret key included."""
    import importlib

    from langfuse_nb.sdk import serialize

    for module, name in serialize._CREDENTIAL_CARRIERS:
        assert isinstance(getattr(importlib.import_module(module), name, None), type), (module, name)
