"""A content-addressed disk cache with a checksum on every entry.

Keys are text (a pipeline signature, an image hash, a view number); values are numpy arrays or
JSON. Each entry carries the SHA-256 of its payload, so a damaged entry (a torn write on a full
disk, a flipped bit) is detected, deleted and recomputed instead of feeding garbage to training.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
from pathlib import Path

import numpy as np

from facerec import atomic

logger = logging.getLogger(__name__)

MAGIC = b"FRC1"
DIGEST_SIZE = 32


def default_cache_dir() -> Path:
    """``$FACEREC_CACHE``, else ``$XDG_CACHE_HOME/facerec``, else ``~/.cache/facerec``."""
    if os.environ.get("FACEREC_CACHE"):
        return Path(os.environ["FACEREC_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "facerec"


class Cache:
    """Checksummed entries under ``root``; safe to share between threads and processes."""

    def __init__(self, root: str | os.PathLike | None = None):
        self.root = Path(root) if root is not None else default_cache_dir()
        self.corrupt_entries = 0

    def get_arrays(self, key: str) -> list[np.ndarray] | None:
        payload = self._read(key)
        if payload is None:
            return None
        with np.load(io.BytesIO(payload), allow_pickle=False) as archive:
            return [archive[f"array_{index}"] for index in range(len(archive.files))]

    def put_arrays(self, key: str, arrays: list[np.ndarray]) -> None:
        buffer = io.BytesIO()
        np.savez(buffer, **{f"array_{index}": array for index, array in enumerate(arrays)})
        self._write(key, buffer.getvalue())

    def get_json(self, key: str):
        payload = self._read(key)
        return None if payload is None else json.loads(payload)

    def put_json(self, key: str, value) -> None:
        self._write(key, json.dumps(value).encode("utf-8"))

    def _path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self.root / digest[:2] / digest

    def _read(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None
        header = len(MAGIC) + DIGEST_SIZE
        payload = data[header:]
        if data[: len(MAGIC)] != MAGIC or hashlib.sha256(payload).digest() != data[len(MAGIC) : header]:
            self.corrupt_entries += 1
            logger.warning("cache entry %s is damaged; recomputing it", path.name)
            path.unlink(missing_ok=True)
            return None
        return payload

    def _write(self, key: str, payload: bytes) -> None:
        atomic.write_bytes(self._path(key), MAGIC + hashlib.sha256(payload).digest() + payload)
