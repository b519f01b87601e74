"""Prompt browser: edit a prompt version, preview it compiled, diff versions, save and promote.

Thin: the widgets hold the state, each handler calls a pure function of ``prompt_form`` or a command of
``commands`` and writes the outcome back into widgets. Handler errors are shown in the status line.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

import ipywidgets as W

from langfuse_nb.notebook import commands
from langfuse_nb.notebook import prompt_form as F
from langfuse_nb.notebook.render import render_diff, render_message, render_prompt_list
from langfuse_nb.notebook.render.html import esc
from langfuse_nb.notebook.render.prompt import render_prompt_static
from langfuse_nb.notebook.render.tables import chips
from langfuse_nb.notebook.widgets.static import StaticMirror

logger = logging.getLogger("langfuse_nb")
FULL = W.Layout(width="auto")  # fills the parent without overflowing it (100% + description would)


def guarded(method: Callable[..., Any]) -> Callable[..., Any]:
    """Run a handler; any error becomes a message in the widget's status line, never a traceback."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any) -> None:
        try:
            method(self, *args)
        except Exception as exc:  # noqa: BLE001 - the swallow boundary of the widget
            logger.debug("prompt browser action failed", exc_info=True)
            self.show_error(_one_line(exc))

    return wrapper


def _one_line(exc: BaseException) -> str:
    """The first line of the error's message; class names mean nothing to the person at the form."""
    text = str(exc).strip().splitlines()
    return text[0] if text else f"that did not work ({type(exc).__name__})"


def _version_label(version: int, labels: list[str]) -> str:
    return f"v{version}" + (f"  [{', '.join(labels)}]" if labels else "")


def set_options(dropdown: W.Dropdown, options: list[tuple[str, Any]], value: Any = None) -> None:
    """New options with a selection: ``value`` if offered, else the current one if still offered,
    else the first (a Dropdown given options after creation otherwise shows an empty selection)."""
    current = dropdown.value
    dropdown.options = options
    values = [v for _label, v in options]
    for wanted in (value, current):
        if wanted is not None and wanted in values:
            dropdown.value = wanted
            return
    dropdown.value = values[0] if values else None


class ChatRows(W.VBox):
    """Role/content rows of a chat prompt with add, remove and reorder; ``messages`` is the state."""

    def __init__(self, messages: tuple[F.Message, ...], on_change: Callable[[], None]) -> None:
        super().__init__(layout=FULL)
        self.messages = messages
        self._on_change = on_change
        self.add_message = W.Button(description="+ message", layout=W.Layout(width="110px"))
        self.add_placeholder = W.Button(description="+ placeholder", layout=W.Layout(width="120px"))
        self.add_message.on_click(lambda _b: self._edit(F.add_message(self.messages)))
        self.add_placeholder.on_click(lambda _b: self._edit(F.add_message(self.messages, "placeholder")))
        self._rebuild()

    def set_messages(self, messages: tuple[F.Message, ...]) -> None:
        self.messages = messages
        self._rebuild()

    def _edit(self, messages: tuple[F.Message, ...], rebuild: bool = True) -> None:
        self.messages = messages
        if rebuild:
            self._rebuild()
        self._on_change()

    def _row(self, index: int, message: F.Message) -> W.HBox:
        role = W.Dropdown(
            options=F.ROLES if message.role in F.ROLES else (*F.ROLES, message.role),
            value=message.role,
            layout=W.Layout(width="120px"),
        )
        content = W.Textarea(
            value=message.content,
            rows=2,
            layout=W.Layout(flex="1"),
            placeholder="placeholder name" if message.role == "placeholder" else "content",
        )
        role.observe(
            lambda ch: self._edit(F.set_message(self.messages, index, role=ch["new"])), names="value"
        )
        content.observe(
            lambda ch: self._edit(F.set_message(self.messages, index, content=ch["new"]), False),
            names="value",
        )
        buttons = [
            self._button("↑", lambda: F.move_message(self.messages, index, -1)),
            self._button("↓", lambda: F.move_message(self.messages, index, 1)),
            self._button("✕", lambda: F.remove_message(self.messages, index)),
        ]
        return W.HBox([role, content, *buttons], layout=FULL)

    def _button(self, text: str, edit: Callable[[], tuple[F.Message, ...]]) -> W.Button:
        button = W.Button(description=text, layout=W.Layout(width="32px"))
        button.on_click(lambda _b: self._edit(edit()))
        return button

    def _rebuild(self) -> None:
        rows = [self._row(i, m) for i, m in enumerate(self.messages)]
        self.children = [*rows, W.HBox([self.add_message, self.add_placeholder])]


class PromptBrowser(StaticMirror, W.VBox):
    """Editable form of one prompt version with history, diff, save-as-new-version and label promotion.

    ``PromptBrowser(client, name="greeting", version=None, label=None)``; without version and label it
    opens the ``production`` version, else the latest. A name that does not exist yet opens a "new
    prompt" form. Saving first checks the server: when a version was saved elsewhere since this form
    loaded its text, the form shows that version and a diff and asks before saving.
    """

    def __init__(self, client: Any, name: str, version: int | None = None, label: str | None = None) -> None:
        super().__init__(layout=FULL)
        self.client = client
        self.name = name
        self.versions: list[int] = []
        self.version_labels: dict[int, list[str]] = {}
        self._prompts: dict[int, Any] = {}  # versions fetched so far (a version never changes)
        self.draft = F.Draft(name=name)
        self.message = ""  # the last status line as plain text
        self.is_new = False  # no such prompt on the server yet: the form creates it
        self.base_latest: int | None = None  # the latest version when the editor's text was loaded
        self._build()
        self._load(version, label)

    # ---- layout -------------------------------------------------------------------------------------
    def _build(self) -> None:
        self.header = W.HTML()
        self.version = W.Dropdown(description="Version", layout=W.Layout(width="320px"))
        self.refresh_button = W.Button(description="Refresh", icon="refresh", layout=W.Layout(width="110px"))
        self.new_name = W.Text(description="Name", layout=W.Layout(width="320px"))
        self.kind = W.ToggleButtons(options=["text", "chat"], description="Type")
        self.new_box = W.VBox()  # name and type, shown only while creating a prompt
        self.text = W.Textarea(rows=8, layout=FULL, placeholder="prompt text with {{variables}}")
        self.chat = ChatRows((), self._on_edit)
        self.editor = W.VBox(layout=FULL)
        self.config = W.Textarea(rows=4, layout=FULL, description="Config")
        self.tags = W.Text(description="Tags", placeholder="a, b", layout=FULL)
        self.labels = W.Text(
            description="Labels", placeholder="labels for the new version, e.g. staging", layout=FULL
        )
        self.commit = W.Text(description="Commit", placeholder="commit message", layout=FULL)
        self.save = W.Button(
            description="Save as new version",
            button_style="primary",
            icon="save",
            layout=W.Layout(width="200px"),
        )
        self.conflict_box = W.VBox()
        wide = W.Layout(width="auto")
        self.save_anyway = W.Button(description="Save mine anyway", button_style="warning", layout=wide)
        self.take_theirs = W.Button(description="Open the newer version", layout=wide)
        self.keep_editing = W.Button(description="Keep editing", layout=wide)
        self.variables = W.VBox()
        self.preview = W.HTML()
        self.promote_label = W.Text(value="production", description="Label", layout=W.Layout(width="260px"))
        self.promote = W.Button(description="Promote this version", layout=W.Layout(width="200px"))
        self.confirm = W.Button(description="Confirm", button_style="warning")
        self.cancel = W.Button(description="Cancel")
        self.confirm_box = W.HBox()
        self.diff_a = W.Dropdown(description="Left", layout=W.Layout(width="240px"))
        self.diff_b = W.Dropdown(description="Right", layout=W.Layout(width="240px"))
        self.diff = W.HTML()
        self.status = W.HTML()
        self._wire()
        edit = W.VBox(
            [
                self.new_box,
                self.editor,
                self.config,
                self.tags,
                self.labels,
                self.commit,
                self.save,
                self.conflict_box,
            ]
        )
        try_it = W.VBox(
            [W.HTML("<b>Variables</b>"), self.variables, W.HTML("<b>Compiled preview</b>"), self.preview]
        )
        promote = W.VBox([W.HBox([self.promote_label, self.promote]), self.confirm_box])
        compare = W.VBox([W.HBox([self.diff_a, self.diff_b]), self.diff])
        self.tabs = W.Tab(children=[edit, try_it, compare, promote])
        self.tabs.titles = ("Edit", "Variables & preview", "Compare versions", "Labels")
        self.children = [self.header, W.HBox([self.version, self.refresh_button]), self.tabs, self.status]
        # stable CSS hooks for styling and for browser tests
        for widget, name in (
            (self, "browser"),
            (self.text, "text"),
            (self.save, "save"),
            (self.status, "status"),
            (self.refresh_button, "refresh"),
            (self.conflict_box, "conflict"),
            (self.save_anyway, "save-anyway"),
        ):
            widget.add_class(f"lfnb-prompt-{name}")

    def _wire(self) -> None:
        self.version.observe(self._on_version, names="value")
        self.text.observe(lambda _ch: self._on_edit(), names="value")
        self.kind.observe(self._on_kind, names="value")
        self.save.on_click(self._on_save)
        self.save_anyway.on_click(self._on_save_anyway)
        self.take_theirs.on_click(self._on_take_theirs)
        self.keep_editing.on_click(lambda _b: self._set_conflict(None))
        self.refresh_button.on_click(self._on_refresh)
        self.promote.on_click(self._on_promote)
        self.confirm.on_click(self._on_confirm)
        self.cancel.on_click(lambda _b: self._set_confirm(False))
        self.diff_a.observe(self._on_diff, names="value")
        self.diff_b.observe(self._on_diff, names="value")

    # ---- state <-> widgets ----------------------------------------------------------------------------
    def current_draft(self) -> F.Draft:
        """The draft as the form shows it now."""
        return F.Draft(
            name=self.new_name.value.strip() if self.is_new else self.name,
            type=self.draft.type,
            text=self.text.value,
            messages=self.chat.messages,
            config_text=self.config.value,
            labels=F.split_csv(self.labels.value),
            tags=F.split_csv(self.tags.value),
            commit_message=self.commit.value,
            version=self.draft.version,
        )

    def _show_draft(self, draft: F.Draft, labels: list[str]) -> None:
        self.draft = draft
        self.text.value = draft.text
        self.chat.set_messages(draft.messages)
        self.editor.children = [self.chat] if draft.type == "chat" else [self.text]
        self.config.value = draft.config_text
        self.tags.value = ", ".join(draft.tags)
        self.labels.value = ""
        self.commit.value = ""
        self._set_header(draft, labels)
        self._on_edit()

    def _set_header(self, draft: F.Draft, labels: list[str]) -> None:
        if self.is_new:
            self.header.value = f"<b>New prompt</b> · {esc(draft.type)} prompt"
            return
        self.header.value = (
            f"<b>{esc(self.name)}</b> · {esc(draft.type)} prompt · version {draft.version} " + chips(labels)
        )

    def show_error(self, text: str) -> None:
        self.message = text
        self.status.value = f'<span style="color:#cf222e">{esc(text)}</span>'

    def show_info(self, text: str) -> None:
        self.message = text
        self.status.value = f"<span>{esc(text)}</span>"

    def __repr__(self) -> str:
        return f"PromptBrowser(name={self.name!r}, version={self.version.value!r})"

    def static_html(self) -> str:
        draft = self.current_draft()
        return render_prompt_static(
            name=draft.name or "(new prompt)",
            kind=draft.type,
            version=None if self.is_new else draft.version,
            body=F.body_text(draft),
            config=draft.config_text,
            versions=self.versions,
            labels=self.version_labels,
            message=self.message,
        )

    # ---- loading --------------------------------------------------------------------------------------
    @guarded
    def _load(self, version: int | None, label: str | None) -> None:
        self._refresh_history()
        if not self.versions:
            self._start_new(
                f"There is no prompt named {self.name!r} yet: write its first version below, then "
                "click Create prompt."
            )
            return
        number, note = self._pick(version, label)
        self._select(number)
        if note:
            self.show_error(note)

    def _start_new(self, message: str) -> None:
        self.is_new = True
        self.new_name.value = self.name
        self.new_box.children = [self.new_name, self.kind]
        self.save.description = "Create prompt"
        self._show_draft(F.Draft(name=self.name, type=self.kind.value), [])
        self.show_info(message)

    def prompt(self, version: int) -> Any:
        """One version from the API, fetched once."""
        if version not in self._prompts:
            self._prompts[version] = commands.get_prompt_version(self.client, self.name, version)
        return self._prompts[version]

    def _refresh_history(self) -> None:
        self.versions, self.version_labels = commands.prompt_history(self.client, self.name)
        self._refresh_version_options()

    def _pick(self, version: int | None, label: str | None) -> tuple[int, str]:
        """The version to open, and a note when the requested one does not exist."""
        latest = max(self.versions)
        have = ", ".join(map(str, self.versions))
        if version is not None:
            if version in self.versions:
                return version, ""
            return latest, (
                f"{self.name!r} has no version {version} (it has {have}); showing the latest, "
                f"version {latest}."
            )
        wanted = label or "production"
        for number, labels in self.version_labels.items():
            if wanted in labels:
                return number, ""
        if label:
            return latest, f"No version of {self.name!r} has the label {label!r}; showing the latest."
        return latest, ""

    def _refresh_version_options(self) -> None:
        options = [(_version_label(v, self.version_labels.get(v, [])), v) for v in reversed(self.versions)]
        current = self.version.value
        self.version.unobserve(self._on_version, names="value")
        try:
            set_options(self.version, options, current)
        finally:
            self.version.observe(self._on_version, names="value")
        latest = options[0][1] if options else None
        previous = options[1][1] if len(options) > 1 else latest
        set_options(self.diff_a, options, previous)  # Compare: previous vs latest by default
        set_options(self.diff_b, options, latest)

    def _select(self, number: int) -> None:
        """Open version ``number`` (also when the dropdown already shows it)."""
        if self.version.value == number:
            self._open_version(number)
        else:
            self.version.value = number  # the observer opens it

    def _open_version(self, number: int) -> None:
        self._show_draft(F.draft_from_prompt(self.prompt(number)), self.version_labels.get(number, []))
        self.base_latest = max(self.versions) if self.versions else None
        self._set_confirm(False)
        self._set_conflict(None)

    # ---- handlers -------------------------------------------------------------------------------------
    @guarded
    def _on_version(self, change: dict[str, Any]) -> None:
        if change["new"] is None or self.is_new:
            return
        self._open_version(change["new"])
        self.sync_static()

    def _on_kind(self, change: dict[str, Any]) -> None:
        if self.is_new:
            self._show_draft(F.Draft(name=self.name, type=change["new"], text=self.text.value), [])

    def _on_edit(self) -> None:
        draft = self.current_draft()
        names = F.variables(draft)
        old = {box.description: box.value for box in self.variables.children}
        if list(old) != names:
            boxes = [W.Text(description=name, value=old.get(name, ""), layout=FULL) for name in names]
            for box in boxes:
                box.observe(lambda _ch: self._update_preview(), names="value")
            self.variables.children = boxes
        self._update_preview()

    def _update_preview(self) -> None:
        values = {box.description: box.value for box in self.variables.children}
        self.preview.value = f"<pre>{esc(F.preview(self.current_draft(), values))}</pre>"

    @guarded
    def _on_save(self, _button: Any) -> None:
        kwargs = F.create_kwargs(self.current_draft())  # validates first: nothing empty is ever saved
        if self.is_new:
            self.name = kwargs["name"]
        versions, labels = commands.prompt_history(self.client, kwargs["name"])
        newest = max(versions) if versions else None
        if newest != (None if self.is_new else self.base_latest):
            self.versions, self.version_labels = versions, labels
            self._refresh_version_options()
            self._set_conflict(newest)
            return
        self._create(kwargs)

    def _create(self, kwargs: dict[str, Any]) -> None:
        created = self.client.create_prompt(**kwargs)
        self.is_new = False
        self.new_box.children = []
        self.save.description = "Save as new version"
        self._refresh_history()
        self._select(created.version)
        self.show_info(f"Saved version {created.version} of {self.name!r}.")
        self.sync_static()

    def _set_conflict(self, newest: int | None) -> None:
        """Show (or with None, hide) what changed on the server since the form loaded, and ask."""
        if newest is None:
            self.conflict_box.children = []
            return
        newer = F.as_text(F.draft_from_prompt(self.prompt(newest)))
        mine = F.as_text(self.current_draft())
        opened = f"opened version {self.draft.version}" if self.draft.version else "opened"
        question = (
            f"Version {newest} of {self.name!r} was saved elsewhere after this form {opened}. "
            "Compare it with your draft, then choose:"
        )
        self.conflict_box.children = [
            W.HTML(render_message(question, error=True)),
            W.HTML(render_diff(newer, mine, f"version {newest} (on the server)", "your draft")),
            W.HBox([self.save_anyway, self.take_theirs, self.keep_editing]),
        ]
        self.show_error(f"Not saved yet: version {newest} is newer than the one you edited.")

    @guarded
    def _on_save_anyway(self, _button: Any) -> None:
        self._set_conflict(None)
        self._create(F.create_kwargs(self.current_draft()))

    @guarded
    def _on_take_theirs(self, _button: Any) -> None:
        newest = max(self.versions)
        self.is_new = False
        self.new_box.children = []
        self.save.description = "Save as new version"
        self._select(newest)
        self.show_info(f"Opened version {newest}; your edits were discarded.")
        self.sync_static()

    @guarded
    def _on_refresh(self, _button: Any) -> None:
        if self.is_new:
            self._load(None, None)
            return
        self._refresh_history()
        latest = max(self.versions)
        self._set_header(self.draft, self.version_labels.get(self.draft.version or 0, []))
        note = (
            f" Version {latest} is newer than the one you are editing (pick it above to open it)."
            if self.base_latest is not None and latest != self.base_latest
            else ""
        )
        self.show_info(f"Refreshed: versions {', '.join(map(str, self.versions))}.{note}")
        self.sync_static()

    @guarded
    def _on_promote(self, _button: Any) -> None:
        label = self.promote_label.value.strip()
        if not label:
            raise ValueError("enter a label to promote")
        if self.is_new:
            raise ValueError("create the prompt first, then promote a version")
        self._set_confirm(True, f"Move label {label!r} to version {self.version.value}?")

    def _set_confirm(self, visible: bool, question: str = "") -> None:
        self.confirm_box.children = [W.HTML(esc(question)), self.confirm, self.cancel] if visible else []

    @guarded
    def _on_confirm(self, _button: Any) -> None:
        label, version = self.promote_label.value.strip(), self.version.value
        self._set_confirm(False)
        self.client.update_prompt(name=self.name, version=version, new_labels=[label])
        self._refresh_history()
        self._set_header(self.draft, self.version_labels.get(version, []))
        self.show_info(f"Label {label!r} now points to version {version}.")
        self.sync_static()

    @guarded
    def _on_diff(self, _change: Any) -> None:
        a, b = self.diff_a.value, self.diff_b.value
        if a is None or b is None:
            return
        left, right = (F.as_text(F.draft_from_prompt(self.prompt(v))) for v in (a, b))
        self.diff.value = render_diff(left, right, f"version {a}", f"version {b}")


class PromptList(StaticMirror, W.VBox):
    """All prompts with their versions and the labels on each; pick one to open it in a PromptBrowser."""

    def __init__(self, client: Any) -> None:
        super().__init__(layout=FULL)
        self.client = client
        self.table = W.HTML()
        self.pick = W.Dropdown(description="Prompt")
        self.open_button = W.Button(description="Open", button_style="primary")
        self.status = W.HTML()
        self.message = ""
        self.browser_box = W.VBox()
        self.open_button.on_click(self._on_open)
        self.children = [self.table, W.HBox([self.pick, self.open_button]), self.status, self.browser_box]
        self.refresh()

    def __repr__(self) -> str:
        return f"PromptList(prompts={[value for _label, value in self.pick.options]!r})"

    def static_html(self) -> str:
        opened = [c.static_html() for c in self.browser_box.children if isinstance(c, StaticMirror)]
        return self.table.value + "".join(opened)

    def _say(self, text: str, error: bool = False) -> None:
        self.message = text
        self.status.value = render_message(text, error=error)

    def refresh(self) -> None:
        try:
            prompts = commands.list_prompts(self.client)
            for prompt in prompts:
                prompt["version_labels"] = commands.labels_by_version(
                    self.client, prompt["name"], prompt.get("labels") or (), prompt.get("versions") or ()
                )
        except Exception as exc:  # noqa: BLE001 - shown, not raised
            self._say(_one_line(exc), error=True)
            return
        self.table.value = render_prompt_list(prompts)
        set_options(self.pick, [(p["name"], p["name"]) for p in prompts])

    def _on_open(self, _button: Any) -> None:
        if not self.pick.value:
            self._say("There are no prompts to open yet: create one with %langfuse_prompt NAME.")
            return
        self._say("")
        self.browser_box.children = [PromptBrowser(self.client, self.pick.value)]
        self.sync_static()
