"""ipywidgets views (thin: widget traits are the state, handlers call commands and pure renderers)."""
