"""Pure static view of a prompt as the browser widget shows it: the open version and the version list."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from langfuse_nb.views.html import esc, page, table, tag


def _chips(labels: Sequence[str]) -> str:
    return "".join(tag("span", esc(label), "lfnb-label-chip") for label in labels)


def render_prompt_static(
    *,
    name: str,
    kind: str,
    version: int | None,
    body: str,
    config: str,
    versions: Sequence[int],
    labels: Mapping[int, Sequence[str]],
    message: str = "",
) -> str:
    """``body`` is the prompt text (chat: one ``[role] content`` line per message)."""
    head = tag("span", esc(name), "lfnb-title") + " " + tag("span", esc(f"{kind} prompt"), "lfnb-dim")
    if version is not None:
        head += " · " + esc(f"version {version}") + " " + _chips(labels.get(version, ()))
    rows = [
        [tag("td", esc(f"v{number}"), "lfnb-num"), _chips(labels.get(number, ()))]
        for number in sorted(versions, reverse=True)
    ]
    parts = [tag("div", head, "lfnb-head"), f"<pre>{esc(body)}</pre>"]
    if config.strip() not in ("", "{}"):
        parts.append(tag("div", "config", "lfnb-dim") + f"<pre>{esc(config)}</pre>")
    if rows:
        parts.append(table(["version", "labels"], rows))
    if message:
        parts.append(tag("div", esc(message), "lfnb-dim"))
    return page("".join(parts))
