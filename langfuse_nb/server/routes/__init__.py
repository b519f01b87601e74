"""server/routes."""
