"""The question bank of notebooks 06–09 (reports for leadership, re-validation, debugging) and the written answers.

Numbers read the summaries and verdicts the notebook built in this run (``needs``), never a typed value.
"""

from __future__ import annotations

from typing import Any

from kit.teach.question_types import Choice as C
from kit.teach.question_types import Question as Q
from kit.teach.question_types import Written

__all__ = ["QUESTIONS_06_09", "WRITTEN_ANSWERS", "coverage_if_next", "memory_cut", "needs_action", "worst_miss"]


def memory_cut(*, summary: dict[str, Any]) -> float:
    """The share of weight memory the recommended method saves against the baseline (0 when none is recommended).

    Args:
        summary: a pilot report's ``summary.json``.
    """
    mem = {r["method"]: r.get("memory_bytes") for r in summary.get("efficiency") or []}
    rec = (summary.get("decision") or {}).get("recommended")
    return 1 - mem[rec] / mem["baseline"] if mem.get(rec) and mem.get("baseline") else 0.0


def coverage_if_next(*, dashboard: dict[str, Any]) -> float:
    """Coverage by volume if the highest-volume uncovered model were covered too.

    Args:
        dashboard: the adoption dashboard's data.
    """
    cov = dashboard["coverage"]
    if not cov["total_volume"]:
        return 0.0
    uncovered = [r["requests_per_day"] for r in cov["rows"] if not r["covered"]]
    return (cov["covered_volume"] + max(uncovered, default=0)) / cov["total_volume"]


def needs_action(*, upgrade: dict[str, Any]) -> float:
    """Entries that need a person after a re-validation: now failing, or not re-run.

    Args:
        upgrade: the re-validation notebook's data.
    """
    return float(sum(1 for r in upgrade["results"] if r.get("passed") is False or r.get("error")))


def worst_miss(*, verdict: Any) -> float:
    """How far the worst failing line is beyond its limit, as a multiple of the limit.

    Args:
        verdict: a ``Verdict`` or its ``to_dict()``.
    """
    lines = (verdict.to_dict() if hasattr(verdict, "to_dict") else verdict)["metrics"]
    return max((-m["margin"] / m["limit"] for m in lines if m["margin"] < 0 and m["limit"]), default=0.0)


QUESTIONS_06_09 = [
    # 06 · pilot report
    Q("06-q1", "06_pilot_report",
      "Who is this report written for, and what must it let them do?",
      choices={"A": C("a leader deciding whether to adopt the model",
                      "Right: the decision, the evidence for it and its cost, readable without the code."),
               "B": C("the engineers who will tune the quantization recipe next",
                      "They read the registry and the configuration logs; the report hides that detail on purpose."),
               "C": C("auditors who will re-run every number from scratch",
                      "The appendix lets them trace each number, but the report's first page is for a decision.")},
      answer="A",
      explanation="Lead with the decision and its uncertainty, then the evidence; keep every number traceable to "
                  "its hardware and engine."),
    Q("06-q2", "06_pilot_report",
      "From the efficiency table: what share of the baseline's weight memory does the recommended method save "
      "(a fraction: 0.6 means 60 %)?",
      expected=memory_cut, needs=("summary",), rel=0.02,
      explanation="Memory is the saving quantization guarantees; serving cost is a separate, measured question "
                  "that can go the other way on hardware without fast kernels.",
      method="Compare the recommended method's memory with the baseline's in the same column: one minus their "
             "ratio is the share saved."),
    Q("06-q3", "06_pilot_report",
      "Suppose the serving section shows the recommended model costing more to serve than the baseline on the "
      "hardware it was measured on (int8 often does on CPUs). What should the report say?",
      choices={"A": C("that int8 still saves money, since its weights are smaller",
                      "Smaller weights do not make it cheaper to serve when decoding is slower: cost follows the "
                      "measured tokens per second."),
               "B": C("that it saves memory, not cost, on the hardware named",
                      "Right: state both numbers with the hardware and engine they came from; another machine can "
                      "change the cost, not the memory."),
               "C": C("nothing: leave the number out because it came from a CPU",
                      "Dropping an unwelcome measurement misleads; name where it was measured instead.")},
      answer="B",
      explanation="A number a leader reads names the hardware and engine it came from, and unwelcome ones stay in."),
    # 07 · adoption dashboard
    Q("07-q1", "07_adoption_dashboard",
      "Coverage is measured by request volume, not by the number of models. Why?",
      choices={"A": C("the registry does not know how many models there are",
                      "It does (the inventory lists them); the choice is about what matters, not what is known."),
               "B": C("a few high-volume models carry most of the cost",
                      "Right: covering the top models by volume is what moves memory and money; a count treats a "
                      "test model like the busiest service."),
               "C": C("volume is easier to measure than a count of models",
                      "A count is the easiest thing to measure; volume needs the inventory's traffic figures.")},
      answer="B",
      explanation="Measure adoption where it pays: by volume, with the top-N share next to it."),
    Q("07-q2", "07_adoption_dashboard",
      "If the highest-volume model that is not covered yet were quantized and passed its gate, what would coverage "
      "by volume become (a fraction)?",
      expected=coverage_if_next, needs=("dashboard",), rel=0.02,
      explanation="This is how to pick the next model to quantize: the uncovered one with the most traffic moves "
                  "coverage most.",
      method="Add that model's requests per day to the covered volume, then divide by the total volume."),
    # 08 · re-validate after an upgrade
    Q("08-q1", "08_revalidate_after_upgrade",
      "What makes a registry entry 'stale'?",
      choices={"A": C("its last validation ran on another stack than this one",
                      "Right: a new torch, transformers, bitsandbytes or new hardware can move its numbers."),
               "B": C("it was registered more than 90 days ago",
                      "Age alone changes nothing: a verdict stays valid on the stack it was measured on."),
               "C": C("its gate failed the last time it was evaluated",
                      "A failed entry is failed, not stale; staleness is about the stack, whatever the result.")},
      answer="A",
      explanation="Verdicts are tied to the stack fingerprint; after an upgrade they must be re-earned, not assumed."),
    Q("08-q2", "08_revalidate_after_upgrade",
      "How many of the entries re-validated above need a person now (they fail on the new stack, or could not be "
      "re-run)?",
      expected=needs_action, needs=("upgrade",), rel=0.0,
      explanation="A failing re-validation means roll back the upgrade for that model, or quantize again on the new "
                  "stack; an entry that could not be re-run is unknown, not fine.",
      method="Go through the per-entry results: count those whose re-validation did not pass, plus those with an "
             "error instead of a verdict."),
    # 09 · pairing
    Q("09-q1", "09_pairing_debug_a_regression",
      "Why does the pair write its hypothesis before running the instruments?",
      choices={"A": C("the instruments need the hypothesis as an input",
                      "`diagnose` runs the same way whatever you wrote; the hypothesis is for the pair."),
               "B": C("it makes the retro at the end shorter",
                      "It makes the retro possible, not shorter: you can only compare a guess you wrote down."),
               "C": C("to test what the symptom alone says before the tools do",
                      "Right: committing first shows whether you read the verdict well, and keeps the pair from "
                      "reading the answer off the tool.")},
      answer="C",
      explanation="Debugging skill is the step from symptom to hypothesis; the instruments confirm or refute it."),
    Q("09-q2", "09_pairing_debug_a_regression",
      "In the reproduced verdict: by how many times its own limit does the worst failing line miss it?",
      expected=worst_miss, needs=("verdict",), rel=0.03,
      explanation="A miss many times the limit is a gross fault (one module, a tokenizer, a scheme); a miss close "
                  "to the limit can be noise or a small accumulation, and calls for more samples first.",
      method="For each failing line, how far beyond the limit it is (minus its margin) relative to the limit "
             "itself; take the largest."),
]

WRITTEN_ANSWERS = [
    Written("ex05-w1", "ex05_savings",
            "In three or four sentences for a product manager: why does compliance-qa stay at full precision?",
            rubric=("names the failed gate (tolerances decided in advance) as the deciding reason",
                    "notes the low volume: savings too small to pay back the engineering cost",
                    "mentions the high criticality: a regression costs more than the compute saved",
                    "says what would change the decision (a candidate that passes, or much higher volume)")),
]
