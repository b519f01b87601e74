"""One copy run between two Langfuse-compatible servers, one step per kind of data (see the package docs)."""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx

from langfuse_nb.api import LangfuseAPI
from langfuse_nb.api._resource import send_json
from langfuse_nb.api.headers import rest_headers
from langfuse_nb.media import REFERENCE_PATTERN, LangfuseMedia
from langfuse_nb.transfer.report import Endpoint, TransferReport
from langfuse_nb.transfer.spans import trace_request

TRACES_PER_REQUEST = 50


class Copy:
    """One copy run: the two API clients, the report, and one step per kind of data."""

    def __init__(
        self, source: Endpoint, target: Endpoint, report: TransferReport, dry_run: bool, progress: bool | None
    ) -> None:
        self.source_endpoint, self.target_endpoint = source, target
        self.report, self.dry_run, self.progress = report, dry_run, progress
        self.media_links: list[MediaLink] = []  # media referenced by the traces being copied
        self._stack = ExitStack()

    def __enter__(self) -> Copy:
        self.src = self._stack.enter_context(self.source_endpoint.api())
        self.dst = self._stack.enter_context(self.target_endpoint.api())
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stack.close()

    # ---- prompts: versions in order, then labels ----------------------------------------------------
    def prompts(self) -> None:
        for meta in _all_pages(lambda page: send_json(self.src.prompts, "list", page=page, limit=100)):
            try:
                self._prompt(meta["name"], sorted(meta.get("versions") or []))
            except Exception as exc:  # noqa: BLE001 - one prompt's failure must not stop the rest
                self.report.fail("prompt versions", meta.get("name"), exc)

    def _prompt(self, name: str, versions: list[int]) -> None:
        present = _target_versions(self.dst, name)
        labels: dict[int, list[str]] = {}
        for version in versions:
            prompt = send_json(self.src.prompts, "get", name, version=version)
            labels[version] = [label for label in prompt.get("labels") or [] if label != "latest"]
            if version in present:
                self.report.add("prompt versions", "existing")
                continue
            if version != (max(present) if present else 0) + 1:
                raise ValueError(
                    f"version {version} cannot be created in order (target has {sorted(present)})"
                )
            if not self.dry_run:
                send_json(self.dst.prompts, "create", request=_prompt_request(prompt, labels[version]))
            present.add(version)
            self.report.add("prompt versions", "copied")
        if not self.dry_run:
            self._labels(name, labels)

    def _labels(self, name: str, labels: dict[int, list[str]]) -> None:
        for version, wanted in labels.items():
            current = send_json(self.dst.prompts, "get", name, version=version).get("labels") or []
            if sorted(set(wanted)) != sorted(set(current) - {"latest"}):
                send_json(self.dst.prompt_version, "update", name=name, version=version, new_labels=wanted)

    # ---- score configs (matched by name: ids differ between servers) ---------------------------------
    def score_configs(self) -> dict[str, str]:
        """Source config id -> target config id."""
        targets = {
            c["name"]: c["id"]
            for c in _all_pages(lambda p: send_json(self.dst.score_configs, "get", page=p, limit=100))
        }
        mapping: dict[str, str] = {}
        for config in _all_pages(lambda p: send_json(self.src.score_configs, "get", page=p, limit=100)):
            if config["name"] in targets:
                mapping[config["id"]] = targets[config["name"]]
                self.report.add("score configs", "existing")
                continue
            try:
                created = (
                    None
                    if self.dry_run
                    else send_json(self.dst.score_configs, "create", request=_config_request(config))
                )
                mapping[config["id"]] = created["id"] if created else config["id"]
                self.report.add("score configs", "copied")
            except Exception as exc:  # noqa: BLE001
                self.report.fail("score configs", config["name"], exc)
        return mapping

    # ---- datasets and items ------------------------------------------------------------------------------
    def datasets(self) -> list[str]:
        names = []
        for dataset in _all_pages(lambda p: send_json(self.src.datasets, "list", page=p, limit=100)):
            try:
                self._dataset(dataset)
                names.append(dataset["name"])
            except Exception as exc:  # noqa: BLE001
                self.report.fail("datasets", dataset["name"], exc)
        return names

    def _dataset(self, dataset: dict[str, Any]) -> None:
        name = dataset["name"]
        exists = _exists(lambda: send_json(self.dst.datasets, "get", name))
        self.report.add("datasets", "existing" if exists else "copied")
        if not exists and not self.dry_run:
            send_json(
                self.dst.datasets,
                "create",
                request=_pick(
                    dataset, "name", "description", "metadata", "inputSchema", "expectedOutputSchema"
                ),
            )
        present = (
            set()
            if not exists
            else {
                item["id"]
                for item in _all_pages(
                    lambda p: send_json(self.dst.dataset_items, "list", dataset_name=name, page=p, limit=100)
                )
            }
        )
        for item in _all_pages(
            lambda p: send_json(self.src.dataset_items, "list", dataset_name=name, page=p, limit=100)
        ):
            if item["id"] in present:
                self.report.add("dataset items", "existing")
                continue
            try:
                if not self.dry_run:
                    send_json(self.dst.dataset_items, "create", request=_item_request(name, item))
                self.report.add("dataset items", "copied")
            except Exception as exc:  # noqa: BLE001
                self.report.fail("dataset items", item["id"], exc)

    # ---- traces (OTLP) ------------------------------------------------------------------------------------
    def traces(self, since: dt.datetime | None, name: str | None) -> set[str]:
        """Copy every matching trace with all its observations; returns the ids copied or already there."""
        listed = list(
            _all_pages(
                lambda p: send_json(
                    self.src.trace, "list", page=p, limit=100, from_timestamp=since, name=name, fields="core"
                )
            )
        )
        done: set[str] = set()
        batch: list[dict[str, Any]] = []
        for summary in _progress(listed, self.progress, "traces"):
            trace = self._trace_to_copy(summary["id"])
            if trace is None:
                done.add(summary["id"])
                continue
            batch.append(trace)
            self.media_links.extend(media_links(trace))
            if len(batch) >= TRACES_PER_REQUEST:
                done |= self._send_traces(batch)
                batch = []
        done |= self._send_traces(batch)
        return done

    def _trace_to_copy(self, trace_id: str) -> dict[str, Any] | None:
        """The full source trace, or None when the target already holds it as it is."""
        try:
            trace = send_json(self.src.trace, "get", trace_id)
        except Exception as exc:  # noqa: BLE001
            self.report.fail("traces", trace_id, exc)
            return None
        try:
            there = send_json(self.dst.trace, "get", trace_id)
        except Exception:  # noqa: BLE001 - not there (404) or not readable: copy it
            return trace
        if len(there.get("observations") or []) >= len(trace.get("observations") or []):
            self.report.add("traces", "existing")
            self.report.add("observations", "existing", len(trace.get("observations") or []))
            return None
        return trace

    def _send_traces(self, traces: list[dict[str, Any]]) -> set[str]:
        if not traces:
            return set()
        sendable = [t for t in traces if t.get("observations")]
        for trace in traces:
            if not trace.get("observations"):
                self.report.fail("traces", trace["id"], "has no observations, which OTLP cannot carry")
        try:
            if not self.dry_run and sendable:
                self._post_otlp(trace_request(sendable).SerializeToString())
        except Exception as exc:  # noqa: BLE001
            for trace in sendable:
                self.report.fail("traces", trace["id"], exc)
            return set()
        self.report.add("traces", "copied", len(sendable))
        self.report.add("observations", "copied", sum(len(t["observations"]) for t in sendable))
        return {t["id"] for t in sendable}

    def _post_otlp(self, body: bytes) -> None:
        target = self.target_endpoint
        headers = {
            **rest_headers(target.public_key, target.secret_key, None),
            "Content-Type": "application/x-protobuf",
        }
        response = httpx.post(
            f"{target.url.rstrip('/')}/api/public/otel/v1/traces", content=body, headers=headers, timeout=60
        )
        if response.status_code >= 300:
            raise RuntimeError(f"OTLP export answered {response.status_code}: {response.text[:200]}")

    # ---- media (after the traces that reference it) -------------------------------------------------------
    def media(self) -> None:
        """Upload the bytes behind every media reference of the copied traces (ids follow the content)."""
        uploaded: set[str] = set()
        for link in self.media_links:
            try:
                self._media(link, link.media_id in uploaded)
                uploaded.add(link.media_id)
            except Exception as exc:  # noqa: BLE001
                self.report.fail("media", link.media_id, exc)

    def _media(self, link: MediaLink, seen: bool) -> None:
        record = send_json(self.src.media, "get", link.media_id)
        if self.dry_run:
            self.report.add("media", "existing" if seen else "copied")
            return
        content = httpx.get(record["url"], timeout=60).raise_for_status().content
        request = {
            "traceId": link.trace_id,
            "observationId": link.observation_id,
            "field": link.field,
            "contentType": record["contentType"],
            "contentLength": len(content),
            "sha256Hash": _sha256(content),
        }
        answer = send_json(self.dst.media, "get_upload_url", request=request)  # also links it to the trace
        if not answer.get("uploadUrl"):
            self.report.add("media", "existing")
            return
        started = time.monotonic()
        put = httpx.put(
            answer["uploadUrl"],
            content=content,
            timeout=60,
            headers={
                "Content-Type": record["contentType"],
                "x-amz-checksum-sha256": request["sha256Hash"],
            },
        )
        send_json(
            self.dst.media,
            "patch",
            answer["mediaId"],
            request={
                "uploadedAt": dt.datetime.now(dt.timezone.utc).isoformat(),
                "uploadHttpStatus": put.status_code,
                "uploadHttpError": None if put.is_success else put.text[:500],
                "uploadTimeMs": int((time.monotonic() - started) * 1000),
            },
        )
        put.raise_for_status()
        self.report.add("media", "copied")

    # ---- scores (ingestion, upserted by id) ---------------------------------------------------------------
    def scores(self, trace_ids: set[str], configs: dict[str, str], since: dt.datetime | None) -> None:
        wanted = [
            score
            for score in _all_pages(
                lambda p: send_json(self.src.score_v_2, "get", page=p, limit=100, from_timestamp=since)
            )
            # a score whose trace was filtered out (or failed) would point at nothing there
            if not score.get("traceId") or score["traceId"] in trace_ids
        ]
        there = self._target_scores([score["id"] for score in wanted])
        events = []
        for score in wanted:
            if there.get(score["id"]) == _score_value(score):
                self.report.add("scores", "existing")
            else:
                events.append(_score_event(score, configs))
        for start in range(0, len(events), 100):
            chunk = events[start : start + 100]
            if self.dry_run:
                self.report.add("scores", "copied", len(chunk))
                continue
            try:
                result = send_json(self.dst.ingestion, "batch", batch=chunk)
            except Exception as exc:  # noqa: BLE001
                for event in chunk:
                    self.report.fail("scores", event["body"]["id"], exc)
                continue
            self.report.add("scores", "copied", len(result.get("successes") or []))
            for error in result.get("errors") or []:
                self.report.fail(
                    "scores", error.get("id"), error.get("error") or error.get("message") or "rejected"
                )

    def _target_scores(self, ids: list[str]) -> dict[str, tuple[Any, ...]]:
        """What the target holds for these score ids (value, label, comment), to skip unchanged ones."""
        found: dict[str, tuple[Any, ...]] = {}
        for start in range(0, len(ids), 100):
            chunk = ids[start : start + 100]
            page = send_json(self.dst.score_v_2, "get", score_ids=",".join(chunk), limit=len(chunk))
            found.update({score["id"]: _score_value(score) for score in page.get("data") or []})
        return found

    # ---- dataset runs (after the traces they link) ---------------------------------------------------------
    def dataset_runs(self, datasets: list[str], trace_ids: set[str]) -> None:
        for name in datasets:
            for run in _all_pages(functools.partial(self._runs_page, name)):
                try:
                    self._run(name, run["name"], trace_ids)
                except Exception as exc:  # noqa: BLE001
                    self.report.fail("dataset run items", f"{name}/{run['name']}", exc)

    def _runs_page(self, dataset: str, page: int) -> Any:
        return send_json(self.src.datasets, "get_runs", dataset, page=page, limit=100)

    def _run(self, dataset: str, run_name: str, trace_ids: set[str]) -> None:
        source = send_json(self.src.datasets, "get_run", dataset, run_name)
        try:
            there = send_json(self.dst.datasets, "get_run", dataset, run_name).get("datasetRunItems") or []
        except Exception:  # noqa: BLE001 - no such run yet
            there = []
        present = {(i.get("datasetItemId"), i.get("traceId")) for i in there}
        for item in source.get("datasetRunItems") or []:
            if (item.get("datasetItemId"), item.get("traceId")) in present:
                self.report.add("dataset run items", "existing")
                continue
            if item.get("traceId") not in trace_ids:
                continue  # its trace was not copied
            if not self.dry_run:
                send_json(
                    self.dst.dataset_run_items,
                    "create",
                    request=_pick(
                        {
                            **item,
                            "runName": run_name,
                            "runDescription": source.get("description"),
                            "metadata": source.get("metadata"),
                        },
                        "runName",
                        "runDescription",
                        "metadata",
                        "datasetItemId",
                        "traceId",
                        "observationId",
                    ),
                )
            self.report.add("dataset run items", "copied")


# ---- helpers ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaLink:
    """One ``@@@langfuseMedia:...@@@`` reference: which media, in which trace/observation and field."""

    media_id: str
    trace_id: str
    observation_id: str | None
    field: str


def media_links(trace: dict[str, Any]) -> list[MediaLink]:
    """Every media reference in a full trace's (and its observations') input, output and metadata."""
    owners: list[tuple[dict[str, Any], str | None]] = [(trace, None)]
    owners += [(obs, obs["id"]) for obs in trace.get("observations") or []]
    links = []
    for owner, observation_id in owners:
        for field_name in ("input", "output", "metadata"):
            text = json.dumps(owner.get(field_name), default=str)
            for reference in REFERENCE_PATTERN.findall(text):
                try:
                    media_id = LangfuseMedia.parse_reference_string(reference)["media_id"]
                except ValueError:
                    continue  # text that only looks like a reference
                links.append(MediaLink(media_id, trace["id"], observation_id, field_name))
    return links


def _sha256(content: bytes) -> str:
    return base64.b64encode(hashlib.sha256(content).digest()).decode()


def _all_pages(fetch: Callable[[int], Any]) -> Iterator[dict[str, Any]]:
    page = 1
    while True:
        result = fetch(page)
        yield from result.get("data") or []
        if page >= int(result.get("meta", {}).get("totalPages") or 1):
            return
        page += 1


def _progress(items: list[Any], progress: bool | None, desc: str) -> Iterator[Any]:
    from langfuse_nb.sdk.experiments.progress import Progress, resolve

    bar = Progress(resolve(progress), total=len(items), desc=desc)
    try:
        for item in items:
            yield item
            bar.update()
    finally:
        bar.close()


def _exists(fetch: Callable[[], Any]) -> bool:
    try:
        fetch()
    except Exception as exc:  # noqa: BLE001
        if getattr(exc, "status_code", None) == 404:
            return False
        raise
    return True


def _target_versions(api: LangfuseAPI, name: str) -> set[int]:
    listed = send_json(api.prompts, "list", name=name, limit=100)
    return {
        v for meta in listed.get("data") or [] if meta.get("name") == name for v in meta.get("versions") or []
    }


def _pick(source: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {key: source[key] for key in keys if source.get(key) is not None}


def _prompt_request(prompt: dict[str, Any], labels: list[str]) -> dict[str, Any]:
    request = _pick(prompt, "name", "prompt", "config", "tags", "type", "commitMessage")
    request["labels"] = labels
    return request


def _config_request(config: dict[str, Any]) -> dict[str, Any]:
    request = _pick(config, "name", "dataType", "minValue", "maxValue", "description")
    if config.get("dataType") == "CATEGORICAL":
        request["categories"] = config.get("categories")
    return request


def _item_request(dataset: str, item: dict[str, Any]) -> dict[str, Any]:
    request = _pick(
        item, "id", "input", "expectedOutput", "metadata", "sourceTraceId", "sourceObservationId", "status"
    )
    request["datasetName"] = dataset
    return request


def _score_value(score: dict[str, Any]) -> tuple[Any, ...]:
    return score.get("value"), score.get("stringValue"), score.get("comment"), score.get("name")


def _score_event(score: dict[str, Any], configs: dict[str, str]) -> dict[str, Any]:
    body = _pick(
        score,
        "id",
        "traceId",
        "observationId",
        "sessionId",
        "datasetRunId",
        "name",
        "dataType",
        "comment",
        "metadata",
        "environment",
        "timestamp",
    )
    body["value"] = score.get("stringValue") if score.get("dataType") == "CATEGORICAL" else score.get("value")
    if score.get("configId"):
        body["configId"] = configs.get(score["configId"], score["configId"])
    return {
        "id": f"push-{score['id']}",
        "type": "score-create",
        "timestamp": score.get("timestamp"),
        "body": body,
    }


__all__ = ["Copy", "MediaLink", "media_links"]
