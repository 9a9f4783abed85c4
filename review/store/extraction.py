"""The store's part for extraction workbooks and values (append-only)."""

from __future__ import annotations

from review.store._base import StoreBase

__all__ = ["ExtractionStoreMixin"]


class ExtractionStoreMixin(StoreBase):
    """Store methods for extraction workbooks and values (append-only)."""
