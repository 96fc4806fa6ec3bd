"""The pairing drill: a regression drawn per pair, a hint ladder, the navigator's instruments and fix, a blind score.

A pair draws its planted regression at random, seeded by the pair's name (so the draw is
reproducible and recorded, and different pairs get different faults). The navigator commits a
hypothesis (a cause, optionally a place) — blank until then — and it is scored against the
planted answer only after that commitment. Hints come in three rungs per regression — symptom,
instrument, location — each revealed on request and logged with when it was asked. The
navigator picks which instruments the driver runs (:func:`instruments`, through
``kit.debug.diagnose``) and which kind of fix to apply (:func:`fix`: an ignore list found by
bisection, the baseline's tokenizer, another scheme, calibration text or sample count, each
through the debugger's own fix path), and the gate is re-run on it. Everything is kept in the
progress log (``kit.teach.progress``) under ``drills``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from kit.clock import utc_now
from kit.errors import KitError

__all__ = ["RUNGS", "commit", "draw", "fix", "hint", "hint_ladder", "instruments", "score", "state"]

RUNGS = ("symptom", "instrument", "location")
_INSTRUMENT = {  # cause → (the instrument that shows it, what to read in it): the ladder's second rung
    "module": ("modules", "the isolated error per module: one module far above the noise floor of the others"),
    "block": ("modules", "the propagated error per block: a jump at one block that every later block carries"),
    "scheme": ("scheme", "the configuration log next to the sanctioned scheme (bits, group size, method)"),
    "calibration": ("calibration", "which text the calibration used and how much of it, against the use case's"),
    "chat_template": ("tokenizer", "the tokenizer and chat template the candidate ships, against the baseline's"),
    "tokenizer": ("tokenizer", "the tokenizer and chat template the candidate ships, against the baseline's"),
    "stack": ("stack", "the stack fingerprint of the candidate's records against the baseline's"),
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
    pick, read = _INSTRUMENT[answer["cause"]]
    return [_SYMPTOM[answer["cause"]], f"Pick the `{pick}` instrument and read {read}.", _location(answer)]


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
                        "instruments": [], "fixes": [], "score": None}
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


def instruments(*, pair: str, picks: Sequence[str], baseline: Any, candidate: Any, use_case: str, tokens: int = 128,
                top: int = 3) -> Any:
    """Run the instruments the navigator picked (``kit.debug.diagnose``) and log which, and whether before the commit.

    Args:
        pair: the pair's name.
        picks: names from ``kit.debug.INSTRUMENTS`` (``tokenizer``, ``scheme``, ``calibration``, ``stack``,
            ``modules``, ``sensitivity``): the navigator's choice, not a fixed list.
        baseline: the loaded baseline.
        candidate: the loaded planted candidate.
        use_case: the gate's use case (its text is what the modules are compared on).
        tokens: tokens the module instruments compare.
        top: units the sensitivity instrument measures.
    """
    from kit.debug.diagnose import diagnose  # the function (``kit.debug.diagnose`` may be the module)

    state(pair)
    diag = diagnose(baseline=baseline, candidate=candidate, use_case=use_case, tokens=tokens, top=top,
                          instruments=picks)  # an unknown pick is refused before any instrument runs

    def record(drills: dict[str, Any]) -> Any:
        drills[pair].setdefault("instruments", []).append(
            {"picks": list(diag.instruments), "at": utc_now(), "after_commit": drills[pair]["hypothesis"] is not None,
             "top": [diag.top["kind"], diag.top["target"]] if diag.top else None})
        return diag
    return _save(record)


def fix(*, pair: str, kind: str, value: Any = None, candidate: Any, base: Any, baseline: Any, oracle: Any,
        table: Any = None, max_gates: int = 6, progress: bool = False) -> dict[str, Any]:
    """Apply the kind of fix the pair chose through the debugger's fix path, re-run the gate, and log both.

    One branch per kind (``kit.debug.FIX_KINDS``): ``ignore`` keeps modules in full precision (the
    ``value`` list, or the shortest list bisection with the gate finds from the module table);
    ``tokenizer`` ships the baseline's tokenizer files; ``scheme``, ``calibration`` and ``samples``
    quantize the fixed recipe for real (``kit quantize``, cached) before the gate.

    Args:
        pair: the pair's name.
        kind: one of ``kit.debug.FIX_KINDS``.
        value: the fix's value (see ``kit.debug.make_fix``); for ``ignore`` None means bisect.
        candidate: the planted candidate (bisection restores modules on it).
        base: the dense artifact of the regression's recipe (``load_candidate(base_artifact(recipe(reg)))``).
        baseline: the loaded baseline.
        oracle: the drill's ``GateOracle`` (the same rehearsal gate that failed the candidate).
        table: the module table of the ``modules`` instrument (bisection ranks its units).
        max_gates: the bisection's budget of gate runs.
        progress: progress bars while quantizing.
    """
    from kit import debug

    reg = debug.load_regression(state(pair)["regression"])
    bisect = kind == "ignore" and not value
    chosen = None if bisect else debug.make_fix(kind=kind, value=value)  # bad input refused before any gate runs
    found = None
    if bisect:
        if table is None or not table.rows:
            raise KitError("bisection ranks the module table: run drill.instruments(..., picks=['modules']) first, "
                           "or name the modules to ignore (value=[...])")
        config = candidate.quantization or {}
        found = debug.bisect_fix(gate=oracle, baseline=baseline, candidate=candidate, table=table,
                                 bits=config.get("bits"), group_size=config.get("group_size"), max_gates=max_gates)
        chosen = debug.make_fix(kind="ignore", value=found["ignore"]) if found.get("ignore") else None
    verdict = fixed = None
    if chosen is not None:
        fixed = debug.fixed_candidate(reg, fix=chosen, base=base, baseline=baseline, progress=progress)
        verdict = oracle(fixed)
    failing = [m.metric for m in verdict.metrics if m.status == "fail"] if verdict else None
    entry = {"kind": kind, "fix": chosen, "decision": verdict.decision if verdict else "fail", "failing": failing,
             "bisection_gates": len(found["steps"]) if found else 0, "at": utc_now(),
             "note": "" if verdict else f"bisection found no ignore list that passes: {found['text'] if found else ''}"}

    def record(drills: dict[str, Any]) -> dict[str, Any]:
        drills[pair].setdefault("fixes", []).append(entry | {"after_commit": drills[pair]["hypothesis"] is not None})
        return {**entry, "verdict": verdict, "candidate": fixed, "records": oracle.last_records if verdict else None,
                "bisection": found}
    return _save(record)


def score(*, pair: str) -> dict[str, Any]:
    """Score the committed hypothesis, and the last fix tried, against the planted answer; says what was missed.

    ``completed`` is True when the cause (and the place, if one was given) is right and the last
    fix tried is of the planted kind and cleared the gate (no failing line).

    Args:
        pair: the pair's name.
    """
    from kit import debug
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
    planted_kind = debug.fix_kind(truth["fix"])
    tried = (drill.get("fixes") or [None])[-1]  # the last fix tried is the pair's answer
    fix_ok = None if tried is None else tried["kind"] == planted_kind and tried["decision"] != "fail"
    picks = [run["picks"] for run in drill.get("instruments") or []]
    missed = [] if cause_ok and place_ok is not False else [str(truth.get("missed", "")).strip()]
    if fix_ok is False:
        missed.append(f"The fix tried was {tried['kind']} ({tried['decision']} at the gate); this fault needs "
                      f"{planted_kind}: {debug.FIX_KINDS[planted_kind]}.")
    result = {"regression": drill["regression"], "cause_right": cause_ok, "place_right": place_ok,
              "fix_right": fix_ok, "fix_tried": tried and {"kind": tried["kind"], "decision": tried["decision"]},
              "planted_fix_kind": planted_kind, "hints_before_commit": h["hints_before"],
              "instruments_before_commit": sum(not run["after_commit"] for run in drill.get("instruments") or []),
              "instruments": picks, "planted_cause": truth["cause"],
              "completed": bool(cause_ok and place_ok is not False and fix_ok), "missed": " ".join(missed)}

    def record(drills: dict[str, Any]) -> dict[str, Any]:
        drills[pair]["score"] = result
        return result
    return _save(record)
