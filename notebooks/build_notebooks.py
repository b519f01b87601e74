"""Write the example notebooks from the cell lists below (``python notebooks/build_notebooks.py``).

Keeping the sources here makes the notebooks easy to review and keeps them free of stale outputs.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent
SETUP = "%load_ext langfuse_nb"
CLIENT = "from langfuse_nb import Langfuse\n\nlangfuse = Langfuse()  # picks up what %load_ext configured"

QUICKSTART = [
    "# langfuse_nb quickstart\n\nNo account needed: `%load_ext langfuse_nb` starts (or reuses) a local "
    "Langfuse-compatible server and points the SDK at it. With `LANGFUSE_PUBLIC_KEY`, `LANGFUSE_SECRET_KEY` "
    "and `LANGFUSE_BASE_URL` set, the same notebook traces to that Langfuse instead.",
    SETUP,
    "from langfuse_nb import Langfuse, observe\n\nlangfuse = Langfuse()  # the endpoint %load_ext set up",
    "## A traced cell\n\n`%%langfuse_trace` runs the cell inside an observation: the input is the cell "
    "source, the output its result and printed text. The trace view follows the cell.",
    '%%langfuse_trace name=hello tags=quickstart metadata={"notebook": "quickstart", "step": 1}\n'
    'print("Hello from a traced cell")\n6 * 7',
    "## `@observe` functions and a generation\n\nDecorated functions called inside a traced cell become its "
    "children. A generation carries a model and token usage.",
    '@observe(as_type="retriever")\ndef retrieve(question: str) -> str:\n    return "6 times 7 is 42."\n\n\n'
    '@observe(as_type="generation", name="fake-llm")\ndef fake_llm(prompt: str) -> str:\n'
    '    langfuse.update_current_generation(\n        model="fake-model-1",\n'
    '        usage_details={"input": len(prompt.split()), "output": 1},\n    )\n    return "42"\n\n\n'
    "@observe()\ndef answer(question: str) -> str:\n    context = retrieve(question)\n"
    '    return fake_llm(f"{context}\\n\\nQuestion: {question}")',
    "%%langfuse_trace name=answer-question as_type=agent user_id=demo-user\n"
    'result = answer("What is 6 times 7?")\n'
    'langfuse.score_current_trace(name="correct", value=1.0, comment="checked by hand")\nresult',
    "## Scores after the fact\n\n`last_trace_id()` is the trace of the last traced cell.",
    "from langfuse_nb.notebook import last_trace_id\n\n"
    'langfuse.create_score(trace_id=last_trace_id(), name="helpfulness", value=0.9)\nlangfuse.flush()',
    "from langfuse_nb.notebook import scores_table\n\nscores_table(trace_id=last_trace_id())",
    "## Looking at traces\n\n`%langfuse_trace_view [TRACE_ID]` draws a trace (from this kernel's recording, "
    "else from the server); observation objects render the same way.",
    "%langfuse_trace_view",
    'span = langfuse.start_span(name="manual-span", input={"step": 1})\nspan.update(output="done")\n'
    "span.end()\nspan",
    "`%langfuse_traces` lists recent traces from the server; pick one and press Open.",
    "%langfuse_traces limit=5",
    "%langfuse_status",
]

PROMPTS = [
    "# Prompts: create, browse, edit, compile",
    SETUP,
    CLIENT,
    "## Create a text and a chat prompt",
    'langfuse.create_prompt(\n    name="nb-greeting",\n    type="text",\n'
    '    prompt="Hello {{name}}, welcome to {{place}}!",\n    labels=["production"],\n'
    '    config={"model": "fake-model-1", "temperature": 0.2},\n    commit_message="first version",\n)\n'
    "langfuse.create_prompt(\n"
    '    name="nb-assistant",\n    type="chat",\n    prompt=[\n'
    '        {"role": "system", "content": "You are a {{tone}} assistant."},\n'
    '        {"type": "placeholder", "name": "history"},\n'
    '        {"role": "user", "content": "{{question}}"},\n    ],\n    labels=["production"],\n)',
    "## Fetch and compile",
    'greeting = langfuse.get_prompt("nb-greeting")\nprint(greeting.version, greeting.variables)\n'
    'greeting.compile(name="Ada", place="the notebook")',
    'assistant = langfuse.get_prompt("nb-assistant", type="chat")\nassistant.compile(\n'
    '    tone="concise", question="Why is the sky blue?", history=[{"role": "user", "content": "Hi"}]\n)',
    "## Browse and edit\n\n`%langfuse_prompt NAME` opens an editable form: edit the text (or chat rows), "
    "fill in the variables to see the compiled preview, compare versions, save a new version and move "
    "labels.",
    "%langfuse_prompt nb-greeting",
    "The same widget from Python; here driven from code (in the browser you type and click).",
    "from langfuse_nb.widgets import PromptBrowser\n\n"
    'browser = PromptBrowser(langfuse, name="nb-greeting")\n'
    'browser.text.value = "Hi {{name}}! Welcome to {{place}}."\n'
    'browser.commit.value = "friendlier"\nbrowser.save.click()\nprint(browser.message)\nbrowser',
    "Promote the new version to `production` (the widget asks for confirmation first):",
    "browser.promote.click()\nbrowser.confirm.click()\n"
    'langfuse.get_prompt("nb-greeting", cache_ttl_seconds=0).compile(name="Ada", place="the notebook")',
    "`%langfuse_prompt` without a name lists every prompt:",
    "%langfuse_prompt",
]

EXPERIMENTS = [
    "# Experiments: local data, a dataset, and a comparison of two runs",
    SETUP,
    "from langfuse_nb import Evaluation, Langfuse\n\nlangfuse = Langfuse()",
    'DATA = [\n    {"input": "2 + 2", "expected_output": "4"},\n'
    '    {"input": "3 * 3", "expected_output": "9"},\n    {"input": "10 - 7", "expected_output": "3"},\n]\n'
    'ANSWERS = {"2 + 2": "4", "3 * 3": "9", "10 - 7": "3"}\n\n\n'
    "def question_of(item):\n"
    '    return item["input"] if isinstance(item, dict) else item.input\n\n\n'
    "def calculator(*, item, **kwargs):\n    return ANSWERS[question_of(item)]\n\n\n"
    "def always_four(*, item, **kwargs):\n"
    '    return "4"\n\n\n'
    "def exact_match(*, input, output, expected_output, **kwargs):\n"
    '    return Evaluation(name="exact_match", value=1.0 if output == expected_output else 0.0)\n\n\n'
    "def accuracy(*, item_results, **kwargs):\n"
    '    values = [e.value for r in item_results for e in r.evaluations if e.name == "exact_match"]\n'
    '    return Evaluation(name="accuracy", value=sum(values) / len(values))',
    "## Two runs on local data",
    'run_a = langfuse.run_experiment(\n    name="calculator", run_name="calculator-v1", data=DATA, '
    "task=calculator,\n    evaluators=[exact_match], run_evaluators=[accuracy],\n)\nrun_a",
    "run_a.to_dataframe()",
    'run_b = langfuse.run_experiment(\n    name="calculator", run_name="always-four", data=DATA, '
    "task=always_four,\n    evaluators=[exact_match], run_evaluators=[accuracy],\n)\nprint(run_b.format())",
    "## Compare the runs item by item",
    "from langfuse_nb.notebook import compare_experiments\n\ncomparison = compare_experiments(run_a, run_b)\n"
    "comparison",
    "comparison.to_dataframe()",
    "## The same on a dataset",
    'langfuse.create_dataset(name="nb-calculator")\n'
    "for number, row in enumerate(DATA):  # fixed ids: running the notebook again updates, not duplicates\n"
    "    langfuse.create_dataset_item(\n"
    '        dataset_name="nb-calculator", id=f"nb-calculator-{number}",\n'
    '        input=row["input"], expected_output=row["expected_output"],\n'
    "    )\n"
    'dataset = langfuse.get_dataset("nb-calculator")\nlen(dataset.items)',
    "Each dataset run gets its own name (by default `calculator - <timestamp>`), so running this notebook "
    "again adds a new run to compare with the earlier ones. (Passing the same `run_name` again would add "
    "this run's items to that existing run, next to the old ones, rather than replace them.)",
    "dataset_run = dataset.run_experiment(\n"
    '    name="calculator", task=calculator, evaluators=[exact_match]\n)\n'
    "dataset_run.to_dataframe()",
]

BATCH = [
    "# Batch evaluation of stored traces",
    SETUP,
    "from langfuse_nb import Evaluation, EvaluatorInputs, Langfuse\n\nlangfuse = Langfuse()",
    "## Some traces to evaluate\n\nThree traced cells answer support questions (tagged `batch-demo`).",
    '%%langfuse_trace name=support-answer tags=batch-demo display=none\n"Reset your password in Settings."',
    '%%langfuse_trace name=support-answer tags=batch-demo display=none\n"I do not know."',
    '%%langfuse_trace name=support-answer tags=batch-demo display=none\n"Refunds take 5 to 7 days."',
    "## Evaluate them\n\nThe mapper turns each stored trace into evaluator inputs; every evaluation "
    "becomes a score on that trace.",
    "import json\n\n\ndef mapper(*, item, **kwargs):\n"
    '    output = item.output["result"] if isinstance(item.output, dict) else item.output\n'
    "    return EvaluatorInputs(input=item.input, output=output, expected_output=None, metadata={})\n\n\n"
    "def helpful(*, output, **kwargs):\n"
    '    return Evaluation(name="helpful", value=0.0 if "do not know" in str(output) else 1.0)\n\n\n'
    "only_demo = json.dumps(\n"
    '    [{"type": "stringOptions", "column": "tags", "operator": "any of", "value": ["batch-demo"]}]\n'
    ")\n"
    "result = langfuse.run_batched_evaluation(\n"
    '    scope="traces", mapper=mapper, evaluators=[helpful], filter=only_demo, max_items=50\n)\n'
    "print(result)",
    "result.to_dataframe()",
]


def _is_markdown(source: str) -> bool:
    """Markdown cells start with a heading, a backtick or a capitalised word; code never does here."""
    return source[0] in "#`" or (source[0].isupper() and source[1].islower())


def notebook(cells: list[str], name: str = "nb") -> nbformat.NotebookNode:
    def cell(number: int, source: str) -> nbformat.NotebookNode:
        made = new_markdown_cell(source) if _is_markdown(source) else new_code_cell(source)
        made["id"] = f"{name}-{number:02d}"  # stable ids: rebuilding does not churn unchanged notebooks
        return made

    nb = new_notebook(cells=[cell(number, source) for number, source in enumerate(cells)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


ANALYSIS = [
    "# From an experiment to a DataFrame, an annotation pass and a push\n\n"
    "Run an experiment, pull its traces into pandas, score the outputs by hand in the notebook, then copy "
    "everything to a team's Langfuse. Here a second local server stands in for Langfuse Cloud.",
    SETUP,
    CLIENT,
    "## An experiment",
    'DATA = [\n    {"input": "capital of France?", "expected_output": "Paris"},\n'
    '    {"input": "capital of Japan?", "expected_output": "Tokyo"},\n'
    '    {"input": "capital of Italy?", "expected_output": "Rome"},\n]\n'
    'ANSWERS = {"capital of France?": "Paris", "capital of Japan?": "Kyoto",\n'
    '           "capital of Italy?": "Rome"}\n\n\n'
    "def answer(*, item, **kwargs):\n"
    "    with langfuse.start_as_current_observation(\n"
    '        name="llm", as_type="generation", model="gpt-4o-mini",\n'
    '        usage_details={"input": 12, "output": 2},\n'
    "    ) as generation:\n"
    '        generation.update(output=ANSWERS[item["input"]])\n'
    '    return ANSWERS[item["input"]]\n\n\n'
    "def exact(*, output, expected_output, **kwargs):\n"
    '    return {"name": "exact", "value": float(output == expected_output)}\n\n\n'
    'result = langfuse.run_experiment(name="capitals", data=DATA, task=answer, evaluators=[exact])\n'
    "langfuse.flush()\nresult",
    "## Traces and observations as DataFrames\n\n"
    "Filters are the public API's; `score_<name>` columns hold each trace's scores.",
    "traces = langfuse.traces_df(limit=50)\n"
    'traces[["name", "timestamp", "latency", "total_cost", "score_exact"]].head()',
    'generations = langfuse.observations_df(type="GENERATION", name="llm")\n'
    'generations[["trace_id", "model", "input_tokens", "output_tokens", "latency"]]',
    "## Annotate the outputs\n\n"
    "Score configs define what reviewers record. `%langfuse_annotate result` opens the widget on the "
    "experiment's items (each click is saved at once); below, the same pass is made from code so the "
    "notebook runs headless.",
    "configs = {c.name for c in langfuse.api.score_configs.get(limit=100).data}\n"
    'if "correct" not in configs:\n'
    '    langfuse.api.score_configs.create(request={"name": "correct", "dataType": "BOOLEAN"})\n'
    'if "fluency" not in configs:\n'
    '    langfuse.api.score_configs.create(request={"name": "fluency", "dataType": "NUMERIC",\n'
    '                                               "minValue": 1, "maxValue": 5})',
    "%langfuse_annotate result configs=correct,fluency",
    "from langfuse_nb.widgets import annotate\n\n"
    'widget = annotate(result, configs=["correct", "fluency"])\n'
    "correct, fluency = widget.session.configs\n"
    "for item in widget.session.items:\n"
    "    widget.session.position = widget.session.items.index(item)\n"
    "    widget.choose(correct, 1 if item.output == item.expected_output else 0)\n"
    "    widget.choose(fluency, 5)\n"
    'print(widget.session.done_count, "of", len(widget.session.items), "items annotated")',
    'langfuse.scores_df(name="correct")[["trace_id", "string_value", "config_id"]]',
    "## Push to a team's Langfuse\n\n"
    "`langfuse-nb push` (or `push_local` from Python) copies traces, scores, prompts, datasets and runs to "
    "`LANGFUSE_BASE_URL`; pushing again copies nothing new. A second local server plays the team's Langfuse.",
    "import tempfile\n\nfrom langfuse_nb.server.runner import start_in_thread\n"
    "from langfuse_nb.transfer import Endpoint, push\n\n"
    'team = start_in_thread(port=0, db_path=tempfile.mkdtemp() + "/team.db",\n'
    '                       public_key="pk-lf-team", secret_key="sk-lf-team")\n'
    "report = push(Endpoint.of(langfuse), Endpoint(team.url, team.public_key, team.secret_key))\n"
    "print(report.summary())",
    "again = push(Endpoint.of(langfuse), Endpoint(team.url, team.public_key, team.secret_key))\n"
    "print(again.summary())\nteam.stop()",
]

NOTEBOOKS = {
    "quickstart": QUICKSTART,
    "prompts": PROMPTS,
    "experiments": EXPERIMENTS,
    "batch_evaluation": BATCH,
    "analysis": ANALYSIS,
}


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        nbformat.write(notebook(cells, name), HERE / f"{name}.ipynb")


if __name__ == "__main__":
    main()
