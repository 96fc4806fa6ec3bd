"""Asking the checks of understanding in a notebook: print the question, score the answer, explain every choice.

A wrong choice prints why that choice is wrong; a wrong number prints the method, never the
value. A predict-then-run question is committed with :func:`predict` before the cell that
measures it, and scored by :func:`question` afterwards against this run's measurement.
"""

from __future__ import annotations

import math
import textwrap
from typing import Any

from kit.errors import KitError

__all__ = ["complete", "predict", "question", "written"]


def _wrap(text: str, indent: str = "  ") -> str:
    return textwrap.fill(text, width=100, initial_indent=indent, subsequent_indent=indent)


def _print_question(q: Any) -> None:
    print(f"{q.id} · {q.prompt}")
    for letter, choice in (q.choices or {}).items():
        print(_wrap(f"{letter}) {choice.text}", indent="    "))


def _form(q: Any) -> str:
    letters = [f'"{k}"' for k in q.choices or {}]
    return f"{', '.join(letters[:-1])} or {letters[-1]}" if letters else "a number"


def predict(qid: str, answer: Any) -> None:
    """Commit a prediction before the cell that measures it; :func:`question` scores it after that cell.

    Args:
        qid: a question with ``predict=True``.
        answer: the learner's prediction (a letter), None: not yet.
    """
    from kit.teach.progress import mark_prediction
    from kit.teach.questions import get_question

    q = get_question(qid)
    if not q.predict:
        raise KitError(f"{qid} is not a predict-then-run question; use check.question({qid!r}, ...)")
    if answer is None:
        _print_question(q)
        print(f"  → predict now: set the answer variable above to {_form(q)} and re-run this cell, "
              "then run the measurement below.")
        return
    given = str(answer).strip().upper()[:1]
    if given not in (q.choices or {}):
        print(f"✗ {answer!r} is not one of {', '.join(q.choices or {})}: answer with the letter.")
        return
    mark_prediction(qid=qid, answer=given)
    print(f"{qid}: prediction {given} committed; the measurement below will score it.")


def question(qid: str, answer: Any, **data: Any) -> None:
    """Check an answer to a question of ``kit.teach.questions``; print why it is right, or why that choice is wrong.

    Unanswered (``None``) prints the question and how to answer, so headless runs pass; every
    attempt is recorded in the progress log (``kit progress``). Prints only: a notebook cell shows no value.

    Args:
        qid: the question's id, e.g. ``"03-q2"``.
        answer: the learner's answer: a letter for multiple choice, a number otherwise (None: not yet).
        data: what the question computes its answer from (e.g. ``record=...``), as the notebook measured it.
    """
    from kit.teach.progress import load, mark_answer
    from kit.teach.questions import get_question

    q = get_question(qid)
    missing = [k for k in q.needs if k not in data]
    if missing:
        raise KitError(f"check.question({qid!r}, ...) needs {', '.join(f'{k}=...' for k in missing)}")
    right = q.right(data)  # computed even when unanswered: a notebook with a bad shape fails headless too
    committed = load()["predictions"].get(qid) if q.predict else None
    if committed is not None:
        answer = committed["answer"]
    if answer is None:
        _print_question(q)
        if q.predict:
            print(f"  → measured: {right}) {q.choices[right].text}. Next time, commit a prediction first "
                  f"(check.predict).")
            return
        print(f"  → not answered yet: set the answer variable above to {_form(q)} and re-run this cell.")
        return
    print(f"{qid}:" + (" (your prediction, committed before the run)" if committed else ""), end=" ")
    if q.choices:
        given = str(answer).strip().upper()[:1]
        if given not in q.choices:
            print(f"✗ {answer!r} is not one of {', '.join(q.choices)}: answer with the letter.")
            return
        ok = given == right
    else:
        if not isinstance(answer, (int, float)) or isinstance(answer, bool):
            print(f"✗ give a number, not {type(answer).__name__} {answer!r}. Method: {q.method}")
            return
        ok = math.isclose(float(answer), float(right), rel_tol=q.rel, abs_tol=1e-9)
    mark_answer(qid=qid, correct=ok)
    if ok:
        shown = f"{right}) {q.choices[right].text}" if q.choices else f"{float(right):.4g}"
        print(f"✓ right: {shown}")
        print(_wrap(f"Why: {q.choices[right].why if q.choices else ''} {q.explanation}".replace("Why:  ", "Why: ")))
    elif q.choices:
        print(f"✗ {given}) is not it: {q.choices[given].text}.")
        print(_wrap(f"Why not: {q.choices[given].why}"))
        print("  Change your answer and re-run the cell." if not q.predict else
              f"  Measured here: {right}) {q.choices[right].text}. Why: {q.explanation}")
    else:
        print(f"✗ {answer!r} is not it; change it and re-run the cell.")
        print(_wrap(f"Method: {q.method}"))


def written(qid: str, text: str | None) -> None:
    """Take a written answer and show the rubric to judge it by (a person judges; the kit does not grade prose).

    Args:
        qid: the written question's id in ``kit.teach.questions.WRITTEN``.
        text: the learner's answer (None: not yet).
    """
    from kit.teach.progress import mark_answer
    from kit.teach.questions import WRITTEN

    if qid not in WRITTEN:
        raise KitError(f"no written question {qid!r}; known: {', '.join(WRITTEN)}")
    w = WRITTEN[qid]
    if not text or not str(text).strip():
        print(_wrap(f"{qid} · {w.prompt}", indent=""))
        print("  → not answered yet: write your answer in the variable above and re-run this cell.")
        return
    words = len(str(text).split())
    if words < w.min_words:
        print(f"✗ {words} words: write at least {w.min_words}, in full sentences.")
        return
    mark_answer(qid=qid, correct=True)
    print(f"✓ recorded ({words} words). Compare your answer with the rubric; a good answer:")
    for point in w.rubric:
        print(_wrap(f"- {point}", indent="    "))


def complete(item: str) -> None:
    """Record that a notebook or exercise ran to its summary cell, and print the learner's standing in it.

    Args:
        item: the notebook's name without ``.ipynb``, e.g. ``"01_baseline"``.
    """
    from kit.teach.progress import load, mark_complete
    from kit.teach.questions import questions_for

    entry = mark_complete(item=item)
    answers = load()["answers"]
    qs = questions_for(item)
    right = [q.id for q in qs if answers.get(q.id, {}).get("correct")]
    todo = [q.id for q in qs if q.id not in right]
    line = f"[progress] {item} completed (run {entry['runs']})"
    if qs:
        line += f"; questions right {len(right)}/{len(qs)}" + (f" (open: {', '.join(todo)})" if todo else "")
    print(line + "; `kit progress` lists everything")
