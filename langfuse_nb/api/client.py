"""`LangfuseAPI` and `AsyncLangfuseAPI`: the REST clients behind ``Langfuse.api`` / ``Langfuse.async_api``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from ._http import AsyncExecutor, HttpCore, SyncExecutor
from ._tls import verify_for
from .headers import rest_headers
from .resources import RESOURCE_TABLE, resource_class

if TYPE_CHECKING:
    from .resources import (
        AsyncDatasetItemsClient,
        AsyncDatasetRunItemsClient,
        AsyncDatasetsClient,
        AsyncHealthClient,
        AsyncIngestionClient,
        AsyncMediaClient,
        AsyncModelsClient,
        AsyncObservationsClient,
        AsyncProjectsClient,
        AsyncPromptsClient,
        AsyncPromptVersionClient,
        AsyncScoreClient,
        AsyncScoreConfigsClient,
        AsyncScoreV2Client,
        AsyncSessionsClient,
        AsyncTraceClient,
        DatasetItemsClient,
        DatasetRunItemsClient,
        DatasetsClient,
        HealthClient,
        IngestionClient,
        MediaClient,
        ModelsClient,
        ObservationsClient,
        ProjectsClient,
        PromptsClient,
        PromptVersionClient,
        ScoreClient,
        ScoreConfigsClient,
        ScoreV2Client,
        SessionsClient,
        TraceClient,
    )


def _core(
    base_url: str,
    username: str | None,
    password: str | None,
    headers: dict[str, str] | None,
    timeout: float | None,
    max_retries: int,
) -> HttpCore:
    return HttpCore(
        base_url=base_url,
        headers=rest_headers(username, password, headers),
        timeout=timeout,
        max_retries=max_retries,
    )


def _resource(api: LangfuseAPI | AsyncLangfuseAPI, name: str, *, asynchronous: bool) -> Any:
    """``api.<name>``, made on first access: only the resources a program uses import their models."""
    if name not in RESOURCE_TABLE or "_executor" not in vars(api):
        raise AttributeError(f"{type(api).__name__!r} object has no attribute {name!r}")
    resource = resource_class(name, asynchronous=asynchronous)(api._executor)
    setattr(api, name, resource)  # kept: later reads are plain attribute reads
    return resource


class LangfuseAPI:
    """Blocking client of the Langfuse public REST API (``username``/``password`` = public/secret key).

    Example::

        api = LangfuseAPI(base_url="http://127.0.0.1:3939", username="pk-lf-local", password="sk-lf-local")
        api.prompts.get("my-prompt", label="production")
    """

    health: HealthClient
    projects: ProjectsClient
    trace: TraceClient
    observations: ObservationsClient
    score: ScoreClient
    score_v_2: ScoreV2Client
    score_configs: ScoreConfigsClient
    models: ModelsClient
    sessions: SessionsClient
    prompts: PromptsClient
    prompt_version: PromptVersionClient
    datasets: DatasetsClient
    dataset_items: DatasetItemsClient
    dataset_run_items: DatasetRunItemsClient
    media: MediaClient
    ingestion: IngestionClient

    def __init__(
        self,
        *,
        base_url: str,
        username: str | None = None,
        password: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = 5,
        httpx_client: httpx.Client | None = None,
        max_retries: int = 0,
    ) -> None:
        self._owns_client = httpx_client is None
        self.httpx_client = (
            httpx_client
            if httpx_client is not None  # the CA bundle is read on the first https connection only
            else httpx.Client(follow_redirects=True, verify=verify_for(base_url))
        )
        core = _core(base_url, username, password, headers, timeout, max_retries)
        self._executor = SyncExecutor(core, self.httpx_client)

    def __getattr__(self, name: str) -> Any:
        return _resource(self, name, asynchronous=False)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *RESOURCE_TABLE})

    def close(self) -> None:
        """Close the underlying httpx client if this object created it."""
        if self._owns_client:
            self.httpx_client.close()

    def __enter__(self) -> LangfuseAPI:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AsyncLangfuseAPI:
    """The asyncio twin of `LangfuseAPI`: same resources and methods, each a coroutine function."""

    health: AsyncHealthClient
    projects: AsyncProjectsClient
    trace: AsyncTraceClient
    observations: AsyncObservationsClient
    score: AsyncScoreClient
    score_v_2: AsyncScoreV2Client
    score_configs: AsyncScoreConfigsClient
    models: AsyncModelsClient
    sessions: AsyncSessionsClient
    prompts: AsyncPromptsClient
    prompt_version: AsyncPromptVersionClient
    datasets: AsyncDatasetsClient
    dataset_items: AsyncDatasetItemsClient
    dataset_run_items: AsyncDatasetRunItemsClient
    media: AsyncMediaClient
    ingestion: AsyncIngestionClient

    def __init__(
        self,
        *,
        base_url: str,
        username: str | None = None,
        password: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float | None = 5,
        httpx_client: httpx.AsyncClient | None = None,
        max_retries: int = 0,
    ) -> None:
        self.httpx_client = httpx_client  # None: one client per event loop, made on first use
        core = _core(base_url, username, password, headers, timeout, max_retries)
        self._executor = AsyncExecutor(core, httpx_client)

    def __getattr__(self, name: str) -> Any:
        return _resource(self, name, asynchronous=True)

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *RESOURCE_TABLE})

    async def aclose(self) -> None:
        """Close the httpx client this object created for the running event loop."""
        await self._executor.aclose()

    async def __aenter__(self) -> AsyncLangfuseAPI:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()


__all__ = ["AsyncLangfuseAPI", "LangfuseAPI"]
