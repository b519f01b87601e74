"""What a copy did (`TransferReport`) and where it copies from or to (`Endpoint`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from langfuse_nb.api import LangfuseAPI


@dataclass
class TransferReport:
    """What a push or pull did: per kind, how many were copied, already there, or failed (with why)."""

    dry_run: bool = False
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, kind: str, outcome: str, count: int = 1) -> None:
        self.counts.setdefault(kind, Counter())[outcome] += count

    def fail(self, kind: str, what: Any, error: BaseException | str) -> None:
        self.add(kind, "failed")
        self.errors.append(f"{kind} {what}: {_one_line(error)}")

    @property
    def ok(self) -> bool:
        return not self.errors

    def copied(self, kind: str) -> int:
        return self.counts.get(kind, Counter())["copied"]

    def summary(self) -> str:
        verb = "would copy" if self.dry_run else "copied"
        lines = []
        for kind, counts in self.counts.items():
            parts = [f"{counts['copied']} {verb}", f"{counts['existing']} already there"]
            if counts["failed"]:
                parts.append(f"{counts['failed']} failed")
            lines.append(f"  {kind:18s} " + ", ".join(parts))
        lines.extend(f"  error: {line}" for line in self.errors[:20])
        if len(self.errors) > 20:
            lines.append(f"  ... and {len(self.errors) - 20} more errors")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


def _one_line(error: BaseException | str) -> str:
    body = getattr(error, "body", None)
    text = str(body["message"]) if isinstance(body, dict) and body.get("message") else str(error)
    return (text.splitlines() or [type(error).__name__])[0][:300]


@dataclass(frozen=True)
class Endpoint:
    """A Langfuse-compatible server and the keys to use there."""

    url: str
    public_key: str
    secret_key: str

    @classmethod
    def of(cls, client: Any) -> Endpoint:
        """Where a `Langfuse` client sends, with its keys."""
        settings = client._settings  # our own client's resolved settings (one source of truth)
        return cls(settings.base_url, settings.public_key or "", settings.secret_key or "")

    def api(self) -> LangfuseAPI:
        return LangfuseAPI(base_url=self.url, username=self.public_key, password=self.secret_key, timeout=30)


# ---- push / pull -----------------------------------------------------------------------------------------


__all__ = ["Endpoint", "TransferReport"]
