"""What a label may be: any name a person would type, but never a path, and one that every
machine receiving an exported zip can store (Windows and macOS included)."""

from __future__ import annotations

import re
import unicodedata

MAX_LABEL_LENGTH = 100
# Bytes, not characters, bound a folder name on disk (255 on common filesystems); a long name in
# a multi-byte script reaches it long before 100 characters would.
MAX_LABEL_BYTES = 200
# Characters Windows does not allow in a file name (besides / and \, refused everywhere).
WINDOWS_FORBIDDEN = '<>:"|?*'
# Names Windows keeps for devices, with any extension ("con.jpg" too), in any case.
WINDOWS_DEVICES = {"con", "prn", "aux", "nul", *(f"{port}{number}" for port in ("com", "lpt") for number in "0123456789¹²³")}


def validate_label(label: object) -> str:
    """Return the label as stored (surrounding whitespace removed) or raise ``ValueError``.

    Names in any script are kept as typed (``José``, ``李雷``); refused are empty names, ``.`` and
    ``..``, names with ``/`` or ``\\`` or control characters, names starting with ``.`` (hidden
    folders), names over 100 characters, and what Windows cannot store as a folder: names
    ending with ``.``, with one of ``<>:"|?*``, or a device name (``con``, ``nul``, ``com1``...).
    Names that differ only by case are refused by :class:`facerec.dataset.Dataset`, which knows
    the other labels.
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
    if cleaned.endswith("."):
        raise ValueError(f"a label cannot end with '.' (Windows drops it from folder names): {cleaned!r}")
    forbidden = sorted(set(cleaned) & set(WINDOWS_FORBIDDEN))
    if forbidden:
        raise ValueError(f"a label cannot contain {' '.join(forbidden)} (Windows does not allow them in folder names): {cleaned!r}")
    if cleaned.split(".")[0].strip().casefold() in WINDOWS_DEVICES:
        raise ValueError(f"{cleaned!r} is a name Windows keeps for a device, so no folder can have it there; "
                         f"add a word or a number, like '{cleaned} 2'")
    if len(cleaned) > MAX_LABEL_LENGTH or len(cleaned.encode("utf-8")) > MAX_LABEL_BYTES:
        raise ValueError(f"a label can have at most {MAX_LABEL_LENGTH} characters, got {len(cleaned)}")
    return cleaned


def same_label(first: str, second: str) -> bool:
    """Whether two labels would be one folder on a case-insensitive file system (Windows, macOS)."""
    return unicodedata.normalize("NFC", first).casefold() == unicodedata.normalize("NFC", second).casefold()


def natural_key(label: str) -> list:
    """Sort key that orders labels as people count: ``Subject 5`` before ``Subject 11``."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part.casefold()) for part in re.split(r"(\d+)", label) if part]
