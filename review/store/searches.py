"""The store's part for PubMed search runs, their hits and raw replies."""

from __future__ import annotations

from review.store._base import StoreBase

__all__ = ["SearchStoreMixin"]


class SearchStoreMixin(StoreBase):
    """Store methods for PubMed search runs, their hits and raw replies."""
