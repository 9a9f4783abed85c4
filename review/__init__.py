"""review: a systematic review end to end, from PubMed search to PRISMA 2020.

The public API is re-exported here; each stage lives in its own module (see README).
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
