"""Numbered schema migrations; ``PRAGMA user_version`` records the last one applied."""

from __future__ import annotations

import sqlite3

_V1_TABLES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE resources (id INTEGER PRIMARY KEY, digest TEXT NOT NULL UNIQUE, body TEXT NOT NULL);

CREATE TABLE traces (
  id TEXT PRIMARY KEY, timestamp TEXT NOT NULL, name TEXT, user_id TEXT, session_id TEXT,
  release TEXT, version TEXT, environment TEXT NOT NULL DEFAULT 'default', public INTEGER,
  bookmarked INTEGER NOT NULL DEFAULT 0, input TEXT, output TEXT, metadata TEXT, tags TEXT,
  resource_id INTEGER, scope_id INTEGER, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX traces_timestamp ON traces(timestamp);
CREATE INDEX traces_user ON traces(user_id, timestamp) WHERE user_id IS NOT NULL;
CREATE INDEX traces_session ON traces(session_id, timestamp) WHERE session_id IS NOT NULL;
CREATE INDEX traces_name ON traces(name, timestamp);
CREATE INDEX traces_environment ON traces(environment, timestamp);
CREATE INDEX traces_release ON traces(release, timestamp) WHERE release IS NOT NULL;
CREATE INDEX traces_version ON traces(version, timestamp) WHERE version IS NOT NULL;

CREATE TABLE trace_tags (tag TEXT NOT NULL, trace_id TEXT NOT NULL, PRIMARY KEY (tag, trace_id))
  WITHOUT ROWID;

CREATE TABLE observations (
  id TEXT PRIMARY KEY, trace_id TEXT NOT NULL, parent_observation_id TEXT, type TEXT NOT NULL,
  name TEXT, start_time TEXT NOT NULL, end_time TEXT, completion_start_time TEXT,
  environment TEXT, level TEXT, status_message TEXT, version TEXT, input TEXT, output TEXT, metadata TEXT,
  model TEXT,
  model_parameters TEXT, usage_details TEXT, cost_details TEXT, total_cost REAL,
  prompt_id TEXT, prompt_name TEXT, prompt_version INTEGER, as_root INTEGER NOT NULL DEFAULT 0,
  resource_id INTEGER, scope_id INTEGER, experiment TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX observations_trace ON observations(trace_id, start_time);
CREATE INDEX observations_start ON observations(start_time);
CREATE INDEX observations_type ON observations(type, start_time);
CREATE INDEX observations_name ON observations(name, start_time);
CREATE INDEX observations_parent ON observations(parent_observation_id)
  WHERE parent_observation_id IS NOT NULL;

CREATE TABLE scores (
  id TEXT PRIMARY KEY, trace_id TEXT, observation_id TEXT, session_id TEXT, dataset_run_id TEXT,
  name TEXT NOT NULL, value REAL, string_value TEXT, data_type TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT 'API', comment TEXT, metadata TEXT, config_id TEXT, queue_id TEXT,
  author_user_id TEXT, environment TEXT NOT NULL DEFAULT 'default', timestamp TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX scores_trace ON scores(trace_id);
CREATE INDEX scores_observation ON scores(observation_id);
CREATE INDEX scores_session ON scores(session_id);
CREATE INDEX scores_run ON scores(dataset_run_id);
CREATE INDEX scores_name ON scores(name, timestamp);
CREATE INDEX scores_timestamp ON scores(timestamp);
CREATE INDEX scores_config ON scores(config_id);
-- observation scores that arrived before their observation (trace id still unknown)
CREATE INDEX scores_orphans ON scores(observation_id) WHERE trace_id IS NULL;

CREATE TABLE sessions (
  id TEXT PRIMARY KEY, environment TEXT NOT NULL DEFAULT 'default', created_at TEXT NOT NULL
);
CREATE INDEX sessions_created ON sessions(created_at);

CREATE TABLE prompts (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL, type TEXT NOT NULL,
  prompt TEXT NOT NULL, config TEXT NOT NULL, labels TEXT NOT NULL, tags TEXT NOT NULL,
  commit_message TEXT, created_by TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  UNIQUE (name, version)
);
CREATE INDEX prompts_updated ON prompts(updated_at);

CREATE TABLE datasets (
  id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, description TEXT, metadata TEXT,
  input_schema TEXT, expected_output_schema TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);

CREATE TABLE dataset_items (
  id TEXT PRIMARY KEY, dataset_id TEXT NOT NULL, input TEXT, expected_output TEXT, metadata TEXT,
  source_trace_id TEXT, source_observation_id TEXT, status TEXT NOT NULL DEFAULT 'ACTIVE',
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX dataset_items_dataset ON dataset_items(dataset_id, created_at);
CREATE INDEX dataset_items_trace ON dataset_items(source_trace_id);
CREATE INDEX dataset_items_observation ON dataset_items(source_observation_id);

CREATE TABLE dataset_runs (
  id TEXT PRIMARY KEY, dataset_id TEXT NOT NULL, name TEXT NOT NULL, description TEXT, metadata TEXT,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL, UNIQUE (dataset_id, name)
);

CREATE TABLE dataset_run_items (
  id TEXT PRIMARY KEY, dataset_run_id TEXT NOT NULL, dataset_item_id TEXT NOT NULL, trace_id TEXT NOT NULL,
  observation_id TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX dataset_run_items_run ON dataset_run_items(dataset_run_id, created_at);
CREATE INDEX dataset_run_items_item ON dataset_run_items(dataset_item_id);

CREATE TABLE media (
  id TEXT PRIMARY KEY, sha256_hash TEXT NOT NULL, content_type TEXT NOT NULL,
  content_length INTEGER NOT NULL, upload_http_status INTEGER, upload_http_error TEXT,
  upload_time_ms INTEGER, uploaded_at TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE media_links (
  media_id TEXT NOT NULL, trace_id TEXT NOT NULL, observation_id TEXT NOT NULL DEFAULT '',
  field TEXT NOT NULL, PRIMARY KEY (media_id, trace_id, observation_id, field)
) WITHOUT ROWID;
"""

# v2: the observation list's level filter had no index (a full scan: ~100 ms at 300,000 observations).
# The expression matches the one the query uses, since legacy events may store no level.
_V2_LEVEL_INDEX = """
CREATE INDEX observations_level ON observations(coalesce(level, 'DEFAULT'), start_time);
"""

# score configs (/api/public/score-configs): what scores that name a config are checked against
_SCORE_CONFIGS = """
CREATE TABLE score_configs (
  id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL, data_type TEXT NOT NULL,
  is_archived INTEGER NOT NULL DEFAULT 0, min_value REAL, max_value REAL, categories TEXT,
  description TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX score_configs_created ON score_configs(created_at);
"""

# project model definitions (/api/public/models) and provided vs computed usage/cost of observations
_MODELS = """
CREATE TABLE models (
  id TEXT PRIMARY KEY, model_name TEXT NOT NULL, match_pattern TEXT NOT NULL, start_date TEXT, unit TEXT,
  input_price REAL, output_price REAL, total_price REAL, tokenizer_id TEXT, tokenizer_config TEXT,
  pricing_tiers TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX models_name ON models(model_name);
ALTER TABLE observations ADD COLUMN provided_usage_details TEXT;
ALTER TABLE observations ADD COLUMN provided_cost_details TEXT;
ALTER TABLE observations ADD COLUMN model_id TEXT;
ALTER TABLE observations ADD COLUMN usage_pricing_tier_id TEXT;
ALTER TABLE observations ADD COLUMN usage_pricing_tier_name TEXT;
"""

# v5 (issue 15): (1) trace metadata as key/value entries, so a metadata filter on the trace list is an index
# lookup instead of a json_extract per trace; SQLite's json_each fills it, so values compare exactly as
# json_extract does (no affinity on `value`; JSON null is left out). WITHOUT ROWID: the primary key is the
# (key, value) index itself, and it also serves the per-trace deletes, which name all three columns.
# (2) From this version on, inputs/outputs may be stored compressed (values.pack_io, BLOBs); no DDL is
# needed for that, but the version bump makes older langfuse_nb refuse the file instead of misreading it.
_TRACE_METADATA = """
CREATE TABLE trace_metadata (
  key TEXT NOT NULL, value NOT NULL, trace_id TEXT NOT NULL, PRIMARY KEY (key, value, trace_id)
) WITHOUT ROWID;
INSERT OR IGNORE INTO trace_metadata (key, value, trace_id)
  SELECT j.key, j.value, t.id FROM traces t, json_each(t.metadata) j
  WHERE t.metadata IS NOT NULL AND json_valid(t.metadata) AND j.type NOT IN ('object', 'array', 'null');
"""

# v6 (issue 15): an exact trace count kept by triggers, so the unfiltered trace list (a notebook's first
# call) reads one row instead of counting every index entry after each commit. Costs one 1-row UPDATE per
# new trace; store/traces.py writes with ON CONFLICT DO UPDATE (REPLACE's implicit delete fires no trigger).
_ROW_COUNTS = """
CREATE TABLE row_counts (name TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO row_counts SELECT 'traces', count(*) FROM traces;
CREATE TRIGGER traces_count_insert AFTER INSERT ON traces BEGIN
  UPDATE row_counts SET n = n + 1 WHERE name = 'traces';
END;
CREATE TRIGGER traces_count_delete AFTER DELETE ON traces BEGIN
  UPDATE row_counts SET n = n - 1 WHERE name = 'traces';
END;
"""

# Partial indexes (WHERE x IS NOT NULL) serve `x = ?` filters and cost nothing for rows without x.
# index i holds the SQL that moves the schema from version i to i + 1; append only, never edit
MIGRATIONS: tuple[str, ...] = (
    _V1_TABLES,
    _V2_LEVEL_INDEX,
    _SCORE_CONFIGS,
    _MODELS,
    _TRACE_METADATA,
    _ROW_COUNTS,
)


def migrate(conn: sqlite3.Connection) -> int:
    """Apply pending migrations in order, each in its own transaction; return the new version."""
    for number in range(len(MIGRATIONS)):
        conn.execute("BEGIN IMMEDIATE")
        # read inside the write transaction: another process may be migrating the same file
        current = conn.execute("PRAGMA user_version").fetchone()[0]
        if current > len(MIGRATIONS):
            conn.execute("ROLLBACK")
            raise RuntimeError(f"database schema version {current} is newer than this langfuse_nb")
        if current > number:
            conn.execute("COMMIT")
            continue
        try:
            # executescript would commit implicitly; split so the version bump is atomic with the DDL
            for statement in _statements(MIGRATIONS[number]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {number + 1}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return len(MIGRATIONS)


def _statements(script: str) -> list[str]:
    """Complete SQL statements of a script; a trigger body's inner ``;`` does not end its CREATE."""
    statements: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        if line.lstrip().startswith("--") and not pending:
            continue
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip():
        statements.append(pending.strip())  # a last statement without ';' (SQLite reports its error)
    return statements
