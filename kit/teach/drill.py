"""The pairing drill's bookkeeping: a regression drawn per pair, a hint ladder, and a hypothesis scored after commitment.

A pair draws its planted regression at random, seeded by the pair's name (so the draw is
reproducible and recorded, and different pairs get different faults). The navigator commits a
hypothesis (a cause, optionally a place) before asking for any instrument's verdict; only then is it
scored against the planted answer. Hints come in three rungs per regression — symptom, instrument,
location — each revealed on request and logged with when it was asked. Everything is kept in the
progress log (``kit.teach.progress``) under ``drills``.
"""

from __future__ import annotations

import random
from typing import Any

from kit.clock import utc_now
from kit.errors import KitError

__all__ = ["INSTRUMENTS", "RUNGS", "commit", "draw", "hint", "hint_ladder", "score", "state"]

RUNGS = ("symptom", "instrument", "location")
INSTRUMENTS = {  # cause → the instrument that shows it (what the navigator should ask the driver to run)
    "module": "`diagnose`'s isolated error per module: one module far above the noise floor of the others",
    "block": "the propagated error per block (`error_by_layer`): a jump at one block that every later block carries",
    "scheme": "the configuration log next to the policy's sanctioned scheme (bits, group size, method)",
    "calibration": "the configuration log's calibration entry (which text, how much of it) and an error spread "
                   "evenly over every block",
    "chat_template": "`diagnose`'s tokenizer / chat-template check against the baseline's",
    "tokenizer": "`diagnose`'s tokenizer / chat-template check against the baseline's",
    "stack": "the stack fingerprint of the candidate's records against the baseline's",
}
_SYMPTOM = {
    "module": "The damage is local: most of the model is at the quantization noise floor.",
    "block": "The damage starts at one depth of the network and is carried forward from there.",
    "scheme": "Nothing was damaged after quantization: the recipe itself asks for too little precision.",
    "calibration": "No single place stands out: the rounding was steered by the wrong inputs, everywhere at once.",
    "chat_template": "The weights are fine: the model is being fed differently from the baseline.",
    "tokenizer": "The weights are fine: the model is being fed differently from the baseline.",
    "stack": "The same recipe behaves differently: something under the model changed.",
}


def _location(answer: dict[str, Any]) -> str:
    target = str(answer["targets"][0])
    if target.startswith("model.layers."):
        block = ".".join(target.split(".")[:3])
        return f"Look inside {block}" + (" — the block as a whole." if target == block else ", one projection of it.")
    if target == "lm_head":
        return "Look at the last module of the model, after every block."
    return {"chat_template": "Compare the chat template the candidate ships with the baseline's.",
            "group_size": "Compare the recipe's group size with the sanctioned scheme's.",
            "samples": "Read the number of calibration samples in the configuration log.",
            }.get(target, "Read the calibration text named in the configuration log.")


def hint_ladder(name: str) -> list[str]:
    """The three hints of one planted regression, from vague to precise: symptom, instrument, location.

    Args:
        name: the regression's name.
    """
    from kit.debug.regressions import load_regression

    answer = load_regression(name).answer
    return [_SYMPTOM[answer["cause"]], f"Run {INSTRUMENTS[answer['cause']]}.", _location(answer)]


def _save(fn: Any) -> dict[str, Any]:
    from kit.io import atomic_write_json
    from kit.teach.progress import load, log_path

    data = load()
    drills = data.setdefault("drills", {})
    out = fn(drills)
    atomic_write_json(log_path(), data)
    return out


def state(pair: str) -> dict[str, Any]:
    """The pair's drill as logged: regression, seed, hints asked, hypothesis and score.

    Args:
        pair: the pair's name, e.g. ``"ana+bo"``.
    """
    from kit.teach.progress import load

    drill = load().get("drills", {}).get(pair)
    if drill is None:
        raise KitError(f"pair {pair!r} has not drawn a regression yet; call drill.draw(pair={pair!r}) first")
    return drill


def draw(*, pair: str, seed: int | None = 0, regression: str | None = None) -> str:
    """Draw the pair's regression at random, seeded by the pair's name and ``seed``, and record the draw.

    Args:
        pair: the pair's name (two people: ``"ana+bo"``).
        seed: another seed for another round (the draw is the same for the same pair and seed).
        regression: a named regression instead of a draw (recorded with seed None).
    """
    from kit.debug.regressions import list_regressions, load_regression

    if "+" not in pair or not all(p.strip() for p in pair.split("+")):
        raise KitError(f"pair {pair!r} should name two people joined by '+', e.g. 'ana+bo': the drill is for pairs")
    name = load_regression(regression).name if regression else random.Random(f"{pair}:{seed}").choice(list_regressions())
    seed = None if regression else seed

    def record(drills: dict[str, Any]) -> str:
        drills[pair] = {"regression": name, "seed": seed, "drawn_at": utc_now(), "hints": [], "hypothesis": None,
                        "score": None}
        return name
    return _save(record)


def hint(*, pair: str) -> str:
    """Reveal the pair's next hint (symptom, then instrument, then location) and log that it was asked.

    Args:
        pair: the pair's name.
    """
    drill = state(pair)
    ladder = hint_ladder(drill["regression"])
    rung = len(drill["hints"])
    if rung >= len(ladder):
        return f"no more hints: all {len(ladder)} rungs are revealed. " + ladder[-1]

    def record(drills: dict[str, Any]) -> str:
        drills[pair]["hints"].append({"rung": RUNGS[rung], "at": utc_now(),
                                      "after_commit": drills[pair]["hypothesis"] is not None})
        return f"hint {rung + 1}/{len(ladder)} ({RUNGS[rung]}): {ladder[rung]}"
    return _save(record)


def commit(*, pair: str, cause: str, target: str | None = None, why: str = "") -> None:
    """Commit the pair's hypothesis before scoring; once committed it cannot be changed.

    Args:
        pair: the pair's name.
        cause: one of ``kit.debug.regressions.CAUSES``.
        target: where (a module, block, ``chat_template``, ``group_size``, a calibration set...), if known.
        why: the reasoning in a sentence.
    """
    from kit.debug.regressions import CAUSES

    if cause not in CAUSES:
        raise KitError(f"cause must be one of {', '.join(CAUSES)}, got {cause!r}")
    if state(pair)["hypothesis"] is not None:
        raise KitError(f"pair {pair!r} already committed a hypothesis; draw again (another seed) for a new round")

    def record(drills: dict[str, Any]) -> None:
        drills[pair]["hypothesis"] = {"cause": cause, "target": target, "why": why, "at": utc_now(),
                                      "hints_before": len(drills[pair]["hints"])}
    _save(record)


def score(*, pair: str) -> dict[str, Any]:
    """Score the committed hypothesis against the planted answer; says what was missed.

    Args:
        pair: the pair's name.
    """
    from kit.debug.regressions import load_regression
    from kit.teach.check import same_place

    drill = state(pair)
    h = drill["hypothesis"]
    if h is None:
        raise KitError("commit a hypothesis first (drill.commit): it is scored only after the pair commits to it")
    truth = load_regression(drill["regression"]).answer
    numeric = {"module", "block"}
    cause_ok = h["cause"] == truth["cause"] or {h["cause"], truth["cause"]} <= numeric
    place_ok = None if not h["target"] else any(same_place(str(h["target"]), str(t)) for t in truth["targets"])
    result = {"regression": drill["regression"], "cause_right": cause_ok, "place_right": place_ok,
              "hints_before_commit": h["hints_before"], "planted_cause": truth["cause"],
              "missed": "" if cause_ok and place_ok is not False else str(truth.get("missed", "")).strip()}

    def record(drills: dict[str, Any]) -> dict[str, Any]:
        drills[pair]["score"] = result
        return result
    return _save(record)
