"""sdk/experiments."""
