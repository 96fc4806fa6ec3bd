"""The checks of understanding in notebooks 00–09: each question, its right answer and why each choice is right or wrong.

A question is multiple choice (the right letter fixed, or computed from this run's numbers) or a
number the learner computes from what the notebook measured (``expected`` recomputes it from the
data the notebook passes). The bank lives in ``bank_models`` (00–05) and ``bank_practice`` (06–09);
``kit.teach.check.question`` asks and checks them.
"""

from __future__ import annotations

from kit.errors import KitError
from kit.teach.bank_models import QUESTIONS_00_05
from kit.teach.bank_practice import QUESTIONS_06_09, WRITTEN_ANSWERS
from kit.teach.question_types import Choice, Question, Written

__all__ = ["QUESTIONS", "WRITTEN", "Choice", "Question", "Written", "get_question", "questions_for"]

QUESTIONS: dict[str, Question] = {q.id: q for q in QUESTIONS_00_05 + QUESTIONS_06_09}

WRITTEN: dict[str, Written] = {w.id: w for w in WRITTEN_ANSWERS}


def get_question(qid: str) -> Question:
    """The question with this id.

    Args:
        qid: e.g. ``"03-q2"``.
    """
    if qid not in QUESTIONS:
        raise KitError(f"no question {qid!r}; known: {', '.join(QUESTIONS)}")
    return QUESTIONS[qid]


def questions_for(notebook: str) -> list[Question]:
    """The questions of one notebook, in order.

    Args:
        notebook: its name without ``.ipynb``, e.g. ``"01_baseline"``.
    """
    return [q for q in QUESTIONS.values() if q.notebook == notebook]
