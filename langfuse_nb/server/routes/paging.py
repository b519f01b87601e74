"""Page-based list parameters as Langfuse reads them (shared by the list endpoints)."""

from __future__ import annotations

from langfuse_nb.server.errors import BadRequest
from langfuse_nb.server.query import MAX_LIMIT, Page


def list_page(page: int | None, limit: int | None, default_limit: int = 50) -> Page:
    """``page``/``limit`` -> a Page; 400 for negative values or a limit above the cap.

    Langfuse accepts ``page=0`` (served as the first page) and ``limit=0`` (no items, only the counts in
    ``meta``; ``totalPages`` is then 0).
    """
    page = 1 if page is None or page == 0 else page
    limit = default_limit if limit is None else limit
    if page < 0:
        raise BadRequest(f"page must be >= 0, got {page}")
    if not 0 <= limit <= MAX_LIMIT:
        raise BadRequest(f"limit must be between 0 and {MAX_LIMIT}, got {limit}")
    return Page(page, limit)
