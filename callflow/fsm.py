"""Explicit state machines: an Enum of states, a table of allowed moves, and
one ``fire`` that checks the move and logs ``old -[event]-> new``."""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Mapping
from typing import Generic, TypeVar

S = TypeVar("S", bound=enum.Enum)
E = TypeVar("E", bound=enum.Enum)


class InvalidTransition(Exception):
    """An event arrived that the current state does not allow."""

    def __init__(self, name: str, state: enum.Enum, event: enum.Enum) -> None:
        super().__init__(f"{name}: event {event.value} not allowed in state {state.value}")
        self.state = state
        self.event = event


class StateMachine(Generic[S, E]):
    def __init__(
        self,
        name: str,
        initial: S,
        table: Mapping[tuple[S, E], S],
        logger: logging.Logger,
        *,
        level: int = logging.INFO,
    ) -> None:
        self.name = name
        self.state = initial
        self._table = table
        self._log = logger
        self._level = level
        self.on_change: Callable[[S], None] | None = None  # told of each new state

    def force(self, state: S, why: str) -> None:
        """Set the state from outside knowledge (a resync), logged like a move."""
        if state is not self.state:
            self._log.log(
                self._level, "%s %s -[%s]-> %s", self.name, self.state.value, why, state.value
            )
            self.state = state
            if self.on_change is not None:
                self.on_change(state)

    def can(self, event: E) -> bool:
        return (self.state, event) in self._table

    def fire(self, event: E, detail: str = "", *, level: int | None = None) -> S:
        try:
            new = self._table[(self.state, event)]
        except KeyError:
            raise InvalidTransition(self.name, self.state, event) from None
        if new is not self.state:
            suffix = f": {detail}" if detail else ""
            self._log.log(
                level or self._level,
                "%s %s -[%s]-> %s%s",
                self.name,
                self.state.value,
                event.value,
                new.value,
                suffix,
            )
            self.state = new
            if self.on_change is not None:
                self.on_change(new)
        return new
