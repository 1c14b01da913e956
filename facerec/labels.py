"""What a label may be: any name a person would type, but never a path."""

from __future__ import annotations

import unicodedata

MAX_LABEL_LENGTH = 100
# Bytes, not characters, bound a folder name on disk (255 on common filesystems); a long name in
# a multi-byte script reaches it long before 100 characters would.
MAX_LABEL_BYTES = 200


def validate_label(label: object) -> str:
    """Return the label as stored (surrounding whitespace removed) or raise ``ValueError``.

    Names in any script are kept as typed (``José``, ``李雷``); refused are empty names, ``.`` and
    ``..``, names with ``/`` or ``\\`` or control characters, names starting with ``.`` (hidden
    folders) and names over 100 characters.
    """
    if not isinstance(label, str):
        raise ValueError(f"a label must be text, got {type(label).__name__}")
    cleaned = label.strip()
    if not cleaned:
        raise ValueError("a label cannot be empty")
    if cleaned in (".", ".."):
        raise ValueError(f"{cleaned!r} cannot be a label")
    if "/" in cleaned or "\\" in cleaned:
        raise ValueError(f"a label cannot contain '/' or '\\': {cleaned!r}")
    if any(unicodedata.category(character) in ("Cc", "Cf", "Cs", "Co", "Cn") for character in cleaned):
        raise ValueError(f"a label cannot contain control or invisible characters: {cleaned!r}")
    if cleaned.startswith("."):
        raise ValueError(f"a label cannot start with '.': {cleaned!r}")
    if len(cleaned) > MAX_LABEL_LENGTH or len(cleaned.encode("utf-8")) > MAX_LABEL_BYTES:
        raise ValueError(f"a label can have at most {MAX_LABEL_LENGTH} characters, got {len(cleaned)}")
    return cleaned
