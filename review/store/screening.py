"""The store's part for screening workbooks and decisions (append-only)."""

from __future__ import annotations

from review.store._base import StoreBase

__all__ = ["ScreeningStoreMixin"]


class ScreeningStoreMixin(StoreBase):
    """Store methods for screening workbooks and decisions (append-only)."""
