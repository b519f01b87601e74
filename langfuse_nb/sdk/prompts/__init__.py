"""sdk/prompts."""
