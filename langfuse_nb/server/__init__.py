"""The embedded Langfuse-compatible server: app, routes, pure decoders, SQLite store, runner."""
