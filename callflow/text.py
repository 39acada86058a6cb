"""Quoting what a client sent, in an error that names it: never at length."""

from __future__ import annotations

QUOTE = 60  # characters of a bad value an error repeats
DETAIL = 300  # characters of an error text at most


def shorten(value: object, limit: int = QUOTE) -> str:
    """``repr`` of ``value``, cut to ``limit`` characters with the full length said."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters)"


def clip(detail: str, limit: int = DETAIL) -> str:
    """An error text cut to ``limit`` characters (a value quoted in it may be long)."""
    return detail if len(detail) <= limit else f"{detail[:limit]}…"
