"""Prompt and media hot paths of langfuse_nb vs the reference SDK (langfuse==3.11.2), same process.

Run: ``python benchmarks/bench_prompts.py [--rounds 7]``. Targets (ratio = ours / reference):
cached get_prompt <= 0.5, compile() <= 1.0, 100 KB payload without media (scan + encode) <= 0.6.
No server is needed: both prompt caches are filled directly, so only the cached path is timed.
Each round times every case for both SDKs back to back (ours first on even rounds, theirs on odd); the
ratio reported is the median of the per-round ratios, and the raw samples go to ``results/``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

os.environ.setdefault("OTEL_SDK_DISABLED", "true")
logging.disable(logging.WARNING)

TEXT = "You are {{persona}}. Answer {{question}} in {{ language }} using {{style}}. " * 4
CHAT = [
    {"role": "system", "content": "You are {{persona}} speaking {{language}}."},
    {"type": "placeholder", "name": "history"},
    {"role": "user", "content": "{{question}} -- reply in {{style}}"},
]
VARIABLES = {
    "persona": "a helpful pirate",
    "question": "why is the sky blue?",
    "language": "English",
    "style": "haiku",
}
HISTORY = [{"role": "user", "content": "hi {{persona}}"}, {"role": "assistant", "content": "ahoy"}]


def payload_100kb() -> dict[str, Any]:
    """Chat-like trace input of ~100 KB with nested dicts/lists and no media."""
    words = [
        "lorem",
        "ipsum",
        "dolor",
        "sit",
        "amet",
        "consectetur",
        "adipiscing",
        "elit",
        "sed",
        "do",
        "eiusmod",
        "tempor",
    ]
    messages = [
        {
            "role": "user" if i % 2 else "assistant",
            "content": " ".join(words[(i + j) % len(words)] for j in range(60)),
            "meta": {"index": i, "score": i / 3, "tags": ["a", "b", str(i)], "ok": True},
        }
        for i in range(220)
    ]
    return {"messages": messages, "model": "gpt-x", "params": {"temperature": 0.2, "max_tokens": 512}}


_counter = iter(range(10**12))


def _fresh_template() -> str:
    """TEXT with a suffix never seen before: compile() cannot reuse an earlier split of it."""
    return f"{TEXT}{next(_counter)}"


def best_of(fn: Callable[[], Any], number: int, repeat: int = 5) -> float:
    """Best per-call time in microseconds."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def ours() -> dict[str, Callable[[], Any]]:
    from langfuse_nb.sdk.media import MediaManager
    from langfuse_nb.sdk.prompts.cache import PromptCache, cache_key
    from langfuse_nb.sdk.prompts.clients import ChatPromptClient, TextPromptClient
    from langfuse_nb.sdk.prompts.compile import compile_template
    from langfuse_nb.sdk.prompts.mixin import PromptsMixin
    from langfuse_nb.sdk.serialize import dumps

    client = _our_client(PromptsMixin, PromptCache)
    text = TextPromptClient({"name": "bench", "version": 1, "prompt": TEXT})
    chat = ChatPromptClient({"name": "chat", "version": 1, "prompt": CHAT})
    client._prompt_cache.set(cache_key("bench"), text, 3600)
    media = MediaManager(api=None)
    data = payload_100kb()

    def scan_encode() -> str:
        return dumps(media.process(data, field="input", trace_id="t", observation_id="o"))

    print(f"langfuse_nb client: {type(client).__name__}")
    return {
        "cached get_prompt": lambda: client.get_prompt("bench"),
        "text compile()": lambda: text.compile(**VARIABLES),
        "text compile(), new template": lambda: compile_template(_fresh_template(), VARIABLES),
        "chat compile() + placeholder": lambda: chat.compile(history=HISTORY, **VARIABLES),
        "100 KB no-media scan": lambda: media.process(data, field="input", trace_id="t", observation_id="o"),
        "100 KB no-media scan+encode": scan_encode,
    }


def _our_client(mixin: type, cache_type: type) -> Any:
    """The real Langfuse client when stream A's facade is importable, else the prompts mixin alone."""
    try:
        from langfuse_nb.sdk.client import Langfuse

        client: Any = Langfuse(
            public_key="pk-bench", secret_key="sk-bench", base_url="http://127.0.0.1:9", tracing_enabled=False
        )
    except Exception:
        client = type("Client", (mixin,), {})()
        client._settings = SimpleNamespace(base_url="http://127.0.0.1:9", public_key="pk-bench")
    client._prompt_cache = cache_type(default_ttl=3600)
    return client


def reference() -> dict[str, Callable[[], Any]]:
    from langfuse import Langfuse
    from langfuse._task_manager.media_manager import MediaManager
    from langfuse._utils.serializer import EventSerializer
    from langfuse.api.resources.prompts import Prompt_Chat, Prompt_Text
    from langfuse.model import ChatPromptClient, TemplateParser, TextPromptClient

    client = Langfuse(
        public_key="pk-bench-ref", secret_key="sk", base_url="http://127.0.0.1:9", tracing_enabled=False
    )
    text = TextPromptClient(Prompt_Text(name="bench", version=1, prompt=TEXT, config={}, labels=[], tags=[]))
    chat = ChatPromptClient(Prompt_Chat(name="chat", version=1, prompt=CHAT, config={}, labels=[], tags=[]))
    client._resources.prompt_cache.set("bench-label:production", text, 3600)
    media = MediaManager(api_client=None, media_upload_queue=queue.Queue())  # type: ignore[arg-type]
    data = payload_100kb()

    def scan() -> Any:
        return media._find_and_process_media(data=data, trace_id="t", observation_id="o", field="input")

    return {
        "cached get_prompt": lambda: client.get_prompt("bench"),
        "text compile()": lambda: text.compile(**VARIABLES),
        "text compile(), new template": lambda: TemplateParser.compile_template(_fresh_template(), VARIABLES),
        "chat compile() + placeholder": lambda: chat.compile(history=HISTORY, **VARIABLES),
        "100 KB no-media scan": scan,
        "100 KB no-media scan+encode": lambda: json.dumps(scan(), cls=EventSerializer),
    }


TARGETS = {
    "cached get_prompt": 0.5,
    "text compile()": 1.0,
    "chat compile() + placeholder": 1.0,
    "100 KB no-media scan+encode": 0.6,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None, help="raw samples JSON (default: results/)")
    args = parser.parse_args()
    size = len(json.dumps(payload_100kb()))
    mine, theirs = ours(), reference()
    print(f"payload: {size / 1024:.0f} KB JSON; python {sys.version.split()[0]}")
    samples: dict[str, dict[str, list[float]]] = {name: {"ours": [], "ref": []} for name in mine}
    for round_index in range(args.rounds):
        for name, fn in mine.items():
            number = 20 if "100 KB" in name else 5000
            pair = [("ours", fn), ("ref", theirs[name])]
            for side, call in pair if round_index % 2 == 0 else pair[::-1]:
                samples[name][side].append(best_of(call, number, repeat=3))
    failed = _report(samples)
    _save(args.out, {"rounds": args.rounds, "samples_us": samples, "loadavg": list(os.getloadavg())})
    return 1 if failed else 0


def _report(samples: dict[str, dict[str, list[float]]]) -> bool:
    print(f"{'case':32} {'langfuse_nb µs':>15} {'reference µs':>13} {'ratio':>7} {'target':>7}")
    failed = False
    for name, pair in samples.items():
        ratio = statistics.median(o / r for o, r in zip(pair["ours"], pair["ref"], strict=True))
        target = TARGETS.get(name)
        ok = target is None or ratio <= target
        failed |= not ok
        print(
            f"{name:32} {statistics.median(pair['ours']):15.2f} {statistics.median(pair['ref']):13.2f} "
            f"{ratio:7.2f} {target or '':>7} {'' if ok else 'MISS'}"
        )
    print(f"load average: {os.getloadavg()}")
    return failed


def _save(out: Path | None, data: dict[str, Any]) -> None:
    if out is None:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        out = Path(__file__).resolve().parent / "results" / f"bench_prompts-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=1))
    print(f"raw samples: {out}")


if __name__ == "__main__":
    raise SystemExit(main())
