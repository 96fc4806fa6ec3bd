"""The checks of understanding in notebooks 00–05: each question, its right answer and why.

A question is multiple choice (the right letter is stored) or a number the learner computes
from a table the notebook printed (the notebook passes that table's data, and ``expected``
recomputes the number from it). ``kit.teach.check.question`` asks and checks them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

from kit.errors import KitError

__all__ = ["QUESTIONS", "WRITTEN", "Question", "Written", "get_question", "questions_for"]


@dataclasses.dataclass(frozen=True)
class Question:
    """One check of understanding: a prompt, the right answer (a letter, or a number from data) and why."""

    id: str  # "<notebook number>-q<k>", e.g. "03-q2"
    notebook: str
    prompt: str
    explanation: str  # shown once the answer is right
    hint: str  # shown when it is wrong
    choices: dict[str, str] | None = None  # letter → text, for multiple choice
    answer: str | None = None  # the right letter
    expected: Callable[..., float] | None = None  # the right number, from the data the notebook passes
    needs: tuple[str, ...] = ()  # keyword arguments ``expected`` reads
    rel: float = 0.01  # relative tolerance for numbers (tables are rounded)


@dataclasses.dataclass(frozen=True)
class Written:
    """A written answer: the prompt, a minimum length, and the rubric shown after the learner writes it."""

    id: str
    notebook: str
    prompt: str
    rubric: tuple[str, ...]
    min_words: int = 15


def _se_points(*, record: dict[str, Any]) -> float:
    acc = record["accuracy"]
    p, n = acc["accuracy"], acc["items"]
    return 2 * 100 * math.sqrt(p * (1 - p) / n)


def _metric(policies: dict[str, Any], use_case: str, metric: str) -> Any:
    return next(m for m in policies[use_case].metrics if m.metric == metric)


def _payback(*, rows: list[dict[str, Any]], cost_per_1k_requests: float, engineering_cost: float) -> float:
    from kit.govern.costs import monthly_savings

    row = next(r for r in rows if r["model"] == "batch-summaries")
    saved = monthly_savings(requests_per_day=row["requests_per_day"], cost_per_1k_requests=cost_per_1k_requests,
                            cost_ratio=0.80)
    return engineering_cost / saved


_ALL = [
    # 00 · setup check
    Question("00-q1", "00_setup_check",
             "The kit records the SHA-256 of the baseline's saved weights. What does that hash let a reviewer check?",
             choices={"A": "that the model answers questions correctly",
                      "B": "that every quantized model was compared against exactly these weights, not another copy",
                      "C": "that the download from PyPI was complete"},
             answer="B",
             explanation="Every harness record and quantization log carries the baseline's weights hash; a "
                         "comparison against different weights (another conversion, a fine-tune) is visible at once.",
             hint="Accuracy is measured by the harness, not by a hash; the source file has its own hash."),
    Question("00-q2", "00_setup_check",
             "Using the parameter count printed above, how many MiB would the weights take in 16-bit "
             "(2 bytes per parameter)? 1 MiB = 2**20 bytes.",
             expected=lambda *, parameters: parameters * 2 / 2**20, needs=("parameters",),
             explanation="fp32 stores 4 bytes per parameter, fp16/bf16 2, int8 1 and 4-bit ½ (plus scales): "
                         "memory is parameters × bits / 8. That is the whole case for quantization.",
             hint="parameters × 2 bytes, divided by 2**20."),
    # 01 · baseline
    Question("01-q1", "01_baseline",
             "Two teams report perplexity 11.6 and 12.4 for the same model on the same text; one scored with a "
             "512-token context, the other with 2,048. What can you conclude?",
             choices={"A": "the 12.4 model is worse",
                      "B": "nothing yet: perplexity depends on the protocol, so re-measure both under one protocol",
                      "C": "the difference is within noise, so they are equal"},
             answer="B",
             explanation="Perplexity changes with the context length, windows and tokenizer; the record declares its "
                         "protocol so that only like is compared with like.",
             hint="Read what the record's `protocol` block is for."),
    Question("01-q2", "01_baseline",
             "From the multiple-choice accuracy p and item count n printed above: a drop smaller than about two "
             "standard errors may be noise. How many percentage points is that here? (2 × 100 × sqrt(p(1−p)/n))",
             expected=_se_points, needs=("record",), rel=0.05,
             explanation="With a few hundred items, a couple of points of accuracy is within noise. That is why the "
                         "gate runs a paired test item by item and requires a minimum sample size.",
             hint="Use the accuracy and items printed by the cell above, and give percentage points (e.g. 6.1)."),
    Question("01-q3", "01_baseline",
             "In the histogram, one output row was rounded to int8 and to 4 bits with one scale per row "
             "(scale = max|w| / 127 or / 7). How large is the 4-bit step between neighbouring levels for that row?",
             expected=lambda *, row: float(max(abs(float(v)) for v in row)) / 7, needs=("row",), rel=0.02,
             explanation="Every weight moves to the nearest level, so by up to half a step. The 4-bit step is 127/7 "
                         "≈ 18× the int8 step: that is why 4-bit needs smaller groups or calibration and int8 does not.",
             hint="The row's largest |weight| is printed above the plot; divide it by 7."),
    # 02 · int8
    Question("02-q1", "02_int8_default",
             "On the text measured above, how many of the layer's input channels exceeded LLM.int8's threshold "
             "(and so would be multiplied in 16 bits)?",
             expected=lambda *, outliers: float(len(outliers["outliers"])), needs=("outliers",), rel=0.0,
             explanation="A handful of channels out of hundreds carry values far larger than the rest. LLM.int8 "
                         "multiplies those few in 16 bits and everything else in int8.",
             hint="Count the channels above the red line, or read the printed summary."),
    Question("02-q2", "02_int8_default",
             "Why does LLM.int8 keep those channels in higher precision instead of just using a larger int8 scale?",
             choices={"A": "with one scale per token, a single huge value sets the scale, and every other value of that "
                           "token then rounds to a few levels; splitting the few outliers off keeps the rest precise",
                      "B": "the outliers are noise, and keeping them apart lets the kit drop them",
                      "C": "16-bit arithmetic is faster on a CPU"},
             answer="A",
             explanation="The error table shows it: int8 for all channels loses far more than int8 with the outlier "
                         "channels kept in floating point.",
             hint="Compare the two errors printed above: what did keeping the outliers apart change?"),
    Question("02-q3", "02_int8_default",
             "What does the int8 default buy on this CPU?",
             choices={"A": "less weight memory, at about the same decode speed",
                      "B": "faster decoding",
                      "C": "higher accuracy than the baseline"},
             answer="A",
             explanation="LLM.int8 is about memory: it halves weight memory against fp16, with no calibration and "
                         "near-zero loss; speed comes from fused kernels, which it does not provide here.",
             hint="Compare weights_MiB and decode_tok_s in the pilot table."),
    # 03 · 4-bit
    Question("03-q1", "03_4bit_for_serving",
             "Group size 128 is a common default. Why does the table mark it unusable for this layer?",
             choices={"A": "the layer's rows are 576 wide and 576 / 128 = 4.5: groups must tile a row exactly",
                      "B": "128 columns per scale would lose too much accuracy",
                      "C": "llm-compressor only supports group size 64"},
             answer="A",
             explanation="Each group of consecutive input columns shares one scale, so the width must be a multiple "
                         "of the group size; SmolLM2's hidden size 576 takes 32, 64, 96, 192, not 128.",
             hint="Look at the divides_width and groups_per_row columns."),
    Question("03-q2", "03_4bit_for_serving",
             "From the one-layer table: by what factor does GPTQ (calibrated in-domain) cut the layer's output "
             "error on held-out text, compared with RTN? (RTN's error / GPTQ's error)",
             expected=lambda *, effect: (next(r for r in effect["rows"] if r["method"] == "rtn")["output_error_held_out"]
                                         / next(r for r in effect["rows"] if r["method"] == "gptq")["output_error_held_out"]),
             needs=("effect",), rel=0.03,
             explanation="Same 4-bit grid, same scales: only the choice of level per weight differs, and the "
                         "calibration inputs decide it. On text GPTQ never saw, the saving largely holds.",
             hint="Divide the rtn row's output_error_held_out by the gptq row's."),
    Question("03-q3", "03_4bit_for_serving",
             "GPTQ's weight error is larger than RTN's, yet its output error is smaller. Why?",
             choices={"A": "it rounds each column so that later columns cancel the error, as seen through the "
                           "calibration inputs: it trades weight fidelity for output fidelity",
                      "B": "it stores more bits per weight than RTN",
                      "C": "the difference is measurement noise"},
             answer="A",
             explanation="What matters is the layer's output, W·x, on inputs like the real ones; GPTQ minimises that "
                         "error for the calibration inputs. Calibration text from another domain helps less.",
             hint="Both use the same grid and scales; what does GPTQ see that RTN does not?"),
    # 04 · gate and registry
    Question("04-q1", "04_gate_and_registry",
             "Why are tolerances written in advance, in a reviewed file, rather than chosen after seeing results?",
             choices={"A": "so that nobody can move the bar to fit a result: the decision rule is fixed before the data",
                      "B": "so that the gate runs faster",
                      "C": "because the registry cannot store them"},
             answer="A",
             explanation="A threshold picked after seeing the numbers will always pass the model someone wants. "
                         "The file is reviewed like code, and every verdict names the policy it used.",
             hint="Think about what could happen if the limit were chosen after the evaluation."),
    Question("04-q2", "04_gate_and_registry",
             "From the tolerance table: how many scored tokens does the chat-assistant use case require, at least, "
             "before its perplexity limit can decide?",
             expected=lambda *, policies: float(_metric(policies, "chat-assistant", "perplexity").min_samples),
             needs=("policies",), rel=0.0,
             explanation="Below the minimum sample size the gate does not decide: the verdict is "
                         "insufficient-samples, and it says how much more data is needed.",
             hint="The 'min samples' column of the chat-assistant perplexity line."),
    Question("04-q3", "04_gate_and_registry",
             "A registered candidate failed its gate. Can it be promoted to champion?",
             choices={"A": "no: only an entry whose latest gate on the current stack passed can be promoted",
                      "B": "yes, if a reason is recorded",
                      "C": "yes, once it is re-evaluated on more items, whatever the result"},
             answer="A",
             explanation="Promotion reads the registry's latest verdict on the current stack; a failed or stale gate "
                         "refuses with the reason, as the cell above shows.",
             hint="Read the 'refused' line of the promotion cell."),
    # 05 · when not to quantize
    Question("05-q1", "05_when_not_to_quantize",
             "Suppose the serving benchmark had measured a cost ratio of 0.80 instead. How many months would "
             "batch-summaries then take to pay back the engineering cost? (savings = requests/day × 30 / 1000 × "
             "cost per 1k × (1 − cost ratio); payback = engineering cost / savings)",
             expected=_payback, needs=("rows", "cost_per_1k_requests", "engineering_cost"), rel=0.02,
             explanation="The saving per request falls to 20 % of the cost, so the payback grows in proportion. "
                         "The cost ratio must come from a benchmark on the serving hardware: on a CPU without "
                         "4-bit kernels it can be close to 1, and then nothing pays back.",
             hint="Use the batch-summaries row's requests_per_day and the parameters cost_per_1k_requests and "
                  "engineering_cost, with (1 − 0.80)."),
    Question("05-q2", "05_when_not_to_quantize",
             "compliance-qa failed its gate. If its volume grew 100×, should it be quantized?",
             choices={"A": "not with this candidate: a failing gate ends the discussion, whatever the savings",
                      "B": "yes: the savings would then pay back quickly",
                      "C": "yes, with a recorded reason"},
             answer="A",
             explanation="Money decides only among candidates that meet the tolerances; a reason can justify a "
                         "non-default method, never a failed gate.",
             hint="Read the last bullet of 'Reading the table'."),
]

QUESTIONS: dict[str, Question] = {q.id: q for q in _ALL}

WRITTEN: dict[str, Written] = {w.id: w for w in [
    Written("ex05-w1", "ex05_savings",
            "In three or four sentences for a product manager: why does compliance-qa stay at full precision?",
            rubric=("names the failed gate (tolerances decided in advance) as the deciding reason",
                    "notes the low volume: savings too small to pay back the engineering cost",
                    "mentions the high criticality: a regression costs more than the compute saved",
                    "says what would change the decision (a candidate that passes, or much higher volume)")),
]}


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
