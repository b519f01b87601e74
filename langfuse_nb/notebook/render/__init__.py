"""notebook/render."""
