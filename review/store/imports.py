"""The store's part for import runs of export files."""

from __future__ import annotations

from review.store._base import StoreBase

__all__ = ["ImportStoreMixin"]


class ImportStoreMixin(StoreBase):
    """Store methods for import runs of export files."""
