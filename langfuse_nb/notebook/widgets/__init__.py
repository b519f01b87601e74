"""notebook/widgets."""
