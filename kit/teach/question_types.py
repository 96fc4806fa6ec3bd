"""The shapes of the question bank: a question, its choices (each with its own explanation) and a written answer."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

__all__ = ["Choice", "Question", "Written"]


@dataclasses.dataclass(frozen=True)
class Choice:
    """One option of a multiple-choice question and why it is right or wrong (shown when it is chosen)."""

    text: str
    why: str


@dataclasses.dataclass(frozen=True)
class Question:
    """One check of understanding: multiple choice (the key fixed or computed from this run) or a number."""

    id: str  # "<notebook number>-q<k>", e.g. "03-q2"
    notebook: str
    prompt: str
    explanation: str  # the lesson, shown once the answer is right
    method: str = ""  # numeric questions: how to get there, shown when wrong (never the value)
    choices: dict[str, Choice] | None = None  # letter → choice
    answer: str | None = None  # the right letter, when it does not depend on the run
    key: Callable[..., str] | None = None  # the right letter, computed from this run's data
    expected: Callable[..., float] | None = None  # the right number, from the data the notebook passes
    needs: tuple[str, ...] = ()  # keyword arguments ``key`` or ``expected`` read
    rel: float = 0.01  # relative tolerance for numbers (tables are rounded)
    predict: bool = False  # asked before the cell that measures it (``check.predict``, then ``check.question``)

    def right(self, data: dict[str, Any]) -> str | float:
        """The right answer for this run: a letter or a number.

        Args:
            data: what the notebook passed (at least ``needs``).
        """
        given = {k: data[k] for k in self.needs}
        if self.expected is not None:
            return self.expected(**given)
        return self.key(**given) if self.key is not None else str(self.answer)


@dataclasses.dataclass(frozen=True)
class Written:
    """A written answer: the prompt, a minimum length, and the rubric shown after the learner writes it."""

    id: str
    notebook: str
    prompt: str
    rubric: tuple[str, ...]
    min_words: int = 15
