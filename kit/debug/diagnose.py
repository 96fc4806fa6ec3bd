"""The diagnosis: every instrument on one baseline/candidate pair, findings ranked, printable and JSON-ready.

Ranking: what makes the comparison itself meaningless first (tokenizer, chat template), then
what the configuration log shows is a known-bad choice (scheme; calibration off the evaluation
domain or too small — a module that stands out under bad calibration is its symptom, not its
cause), then a module or block that stands out numerically (with its sensitivity), then stack
warnings, then the rest.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Sequence
from typing import Any

from kit.debug.checks import calibration_checks, scheme_checks, stack_checks, tokenizer_checks
from kit.debug.compare import ModuleTable, compare_modules, severity, shape_verdict
from kit.debug.defaults import MIN_TOKENS, TOKENS, TOP
from kit.debug.sensitivity import sensitivity
from kit.debug.shapes import DiagnosisDict, Finding
from kit.errors import KitError

__all__ = ["INSTRUMENTS", "MIN_TOKENS", "SCHEMA", "Diagnosis", "check_instruments", "check_tokens", "diagnose",
           "probe_tokens"]

SCHEMA = "kit.diagnosis/1"
#: The instruments :func:`diagnose` runs (all by default; a navigator may pick some), with what each shows.
INSTRUMENTS = {
    "tokenizer": "tokenizer and chat template against the baseline's: do both models see the same inputs?",
    "scheme": "the configuration log's scheme against the known-bad choices (bits, group size, lm_head quantized)",
    "calibration": "the calibration entry of the log: overlap with the use case's text, tokens against the widest "
                   "layer input",
    "stack": "the candidate's stack fingerprint against the registry's history (needs a registry)",
    "modules": "isolated and propagated error per module and per block, and the shape: one stands out, or it "
               "accumulates",
    "sensitivity": "KL at the logits with each worst unit kept in full precision (runs `modules` too)",
}
_ORDER = {("critical", "tokenizer"): 0, ("critical", "chat_template"): 0, ("warning", "scheme"): 1,
          ("warning", "calibration"): 1, ("warning", "module"): 2, ("warning", "block"): 2, ("warning", "stack"): 4}


@dataclasses.dataclass
class Diagnosis:
    """Ranked findings, the module table, shape verdict and sensitivity of one candidate."""

    baseline: str
    candidate: str
    use_case: str
    findings: list[Finding]
    shape: dict[str, Any]
    table: ModuleTable
    sensitivity: list[dict[str, Any]]
    seconds: float
    fix: dict[str, Any] | None = None
    tokens_used: int = 0  # tokens of the use case's text the comparison ran on (fewer than asked: the set ends)
    instruments: tuple[str, ...] = tuple(INSTRUMENTS)  # the instruments that ran (the module table is empty without
    # `modules` or `sensitivity`)

    @property
    def top(self) -> Finding | None:
        """The first-ranked finding (None when nothing was found)."""
        return self.findings[0] if self.findings else None

    def to_dict(self) -> DiagnosisDict:
        """JSON-ready."""
        return {"schema": SCHEMA, "baseline": self.baseline, "candidate": self.candidate, "use_case": self.use_case,
                "findings": self.findings, "shape": self.shape, "sensitivity": self.sensitivity,
                "modules": self.table.to_dict(), "fix": self.fix, "seconds": round(self.seconds, 2),
                "tokens_used": self.tokens_used}

    def format(self, *, rows: int = 10) -> str:
        """The terminal report: ranked findings, shape, the worst modules, sensitivity, and the fix if searched.

        Args:
            rows: how many modules to list.
        """
        from kit.eval.tables import format_table

        ran = ", ".join(self.instruments)
        if not self.table.rows:
            found = [f"{i}. [{f['severity']}] {f['kind']} {f['target']}: {f['text']}" for i, f in enumerate(self.findings, 1)]
            return "\n".join([f"diagnosis {self.candidate} vs {self.baseline} ({self.use_case}; instruments: {ran})",
                              *(found or ["no finding from these instruments"])])
        lines = [f"diagnosis {self.candidate} vs {self.baseline} ({self.use_case}; {self.table.tokens} tokens, "
                 f"KL {self.table.logits['kl_mean']:.4f}, top-1 {self.table.logits['top1_agreement']:.3f})"]
        lines += [f"{i}. [{f['severity']}] {f['kind']} {f['target']}: {f['text']}" for i, f in enumerate(self.findings, 1)]
        if not self.findings:
            lines.append("no finding: nothing stands out and the inputs match")
        lines.append(f"shape: {self.shape['shape']} — {self.shape['text']}")
        top = [{"module": r["name"], "isolated_sqnr_dB": _db(r["isolated"]["sqnr_db"]),
                "isolated_rel_l2": f"{r['isolated']['rel_l2']:.4f}", "×median": _ratio(r),
                "propagated_sqnr_dB": _db(r["propagated"]["sqnr_db"]), "cosine": f"{r['propagated']['cosine']:.4f}",
                "weight_err_vs_rtn": _num((r.get("weight") or {}).get("vs_rtn"))}
               for r in self.table.ranked(kind="all")[:rows]]
        lines.append(format_table(top))
        if self.sensitivity:
            lines.append("sensitivity (KL with the unit kept in full precision): " + "; ".join(
                f"{s['unit']} {s['kl_as_is']:.4f}→{s['kl_restored']:.4f} ({s['recovered_share']:.0%} recovered)"
                for s in self.sensitivity))
        if self.fix:
            lines.append(f"fix: {self.fix['text']}")
            if self.fix.get("command"):
                lines.append(f"  {self.fix['command']}")
        return "\n".join(lines)


def _db(x: float) -> str:
    return "inf" if x == float("inf") else f"{x:.1f}"


def _num(x: Any) -> str:
    return "-" if x is None else f"{x:.2f}"


def _ratio(row: dict[str, Any]) -> str:
    """The ×median cell; where the median is exact (0) there is no ratio: ``exact`` or ``differs``."""
    if row.get("vs_median") is not None:
        return f"{row['vs_median']:.1f}"
    return "differs" if row["isolated"]["rel_l2"] > 0 else "exact"


def _probe_set(*, use_case: str, policies: str | None) -> Any:
    from kit.eval.sets import load_set
    from kit.govern.policy import get_policy

    sets = [load_set(s) for s in get_policy(use_case, path=policies).eval_sets]
    return ([s for s in sets if s.kind == "text"] or [load_set("stdlib-docs")])[0]


def check_instruments(picks: Sequence[str] | None) -> tuple[str, ...]:
    """The instruments to run, in :data:`INSTRUMENTS` order; refuse an unknown or empty pick before any work.

    Args:
        picks: names from :data:`INSTRUMENTS` (None: all of them).
    """
    if picks is None:
        return tuple(INSTRUMENTS)
    picks = [picks] if isinstance(picks, str) else list(picks)
    unknown = [p for p in picks if p not in INSTRUMENTS]
    if unknown or not picks:
        raise KitError(f"instruments must be some of {', '.join(INSTRUMENTS)}; got {picks!r}")
    return tuple(name for name in INSTRUMENTS if name in picks)


def check_tokens(*, tokens: int, use_case: str | None, policies: str | None = None) -> None:
    """Refuse a ``--tokens`` the instruments cannot use, before any model loads.

    Fewer than :data:`MIN_TOKENS` compares nothing; more than the text set's UTF-8 bytes is more
    than it can hold (a token covers at least one byte). Between the set's real length and that
    bound the comparison uses the whole set and says so.

    Args:
        tokens: the requested count.
        use_case: the use case whose text set is compared (None: not known yet; the largest of all).
        policies: the policy file.
    """
    from kit.govern.policy import load_policies

    if tokens < MIN_TOKENS:
        raise KitError(f"--tokens {tokens} is too few to compare; use at least {MIN_TOKENS} (default {TOKENS})")
    cases = [use_case] if use_case else list(load_policies(path=policies))
    sizes = {}
    for case in cases:
        text = _probe_set(use_case=case, policies=policies)
        sizes[text.name] = len("\n\n".join(text.texts()).encode("utf-8"))
    name, most = max(sizes.items(), key=lambda kv: kv[1])
    if tokens > most:
        raise KitError(f"--tokens {tokens} is more than the text set {name} holds (fewer than {most:,} tokens); "
                       f"pass --tokens {MIN_TOKENS}..{most:,} (a number above the set's length compares all of it)")


def probe_tokens(*, tokenizer: Any, use_case: str, tokens: int, policies: str | None = None) -> list[int]:
    """The first ``tokens`` tokens of the use case's first text set (the instruments' input).

    Args:
        tokenizer: the baseline tokenizer.
        use_case: the policy's use case.
        tokens: how many.
        policies: the policy file.
    """
    from kit.eval.harness import tokens_for

    return tokens_for(_probe_set(use_case=use_case, policies=policies), tokenizer, max_tokens=tokens)


def _rank(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # a score of None: the only module/block that differs (no ratio to an exact median) ranks first in its class
    return sorted(findings, key=lambda f: (_ORDER.get((f["severity"], f["kind"]), 9),
                                           -math.inf if f["score"] is None else -f["score"]))


def diagnose(
    *,
    baseline: Any,
    candidate: Any,
    use_case: str,
    tokens: int = TOKENS,
    top: int = TOP,
    registry: Any = None,
    policies: str | None = None,
    progress: bool = False,
    instruments: Sequence[str] | None = None,
) -> Diagnosis:
    """Run every instrument (or the ones picked) and rank the findings.

    Args:
        baseline: the loaded baseline (``LoadedModel``).
        candidate: the loaded candidate with dense weights (``kit.debug.regressions.load_candidate``).
        use_case: the policy's use case (its sets define the evaluation domain).
        tokens: tokens of the use case's text set the models are compared on.
        top: units measured for sensitivity.
        registry: an open registry for the stack-drift check (None: skipped).
        policies: the policy file.
        progress: progress bars.
        instruments: names from :data:`INSTRUMENTS` to run (None: all of them).
    """
    from kit.govern.policy import get_policy

    started = time.perf_counter()
    ran = check_instruments(instruments)
    check_tokens(tokens=tokens, use_case=use_case, policies=policies)
    policy = get_policy(use_case, path=policies)
    config = candidate.quantization or {}
    findings = tokenizer_checks(baseline=baseline.tokenizer, candidate=candidate.tokenizer) if "tokenizer" in ran else []
    findings += scheme_checks(config=config) if "scheme" in ran else []
    widest = max((m.in_features for n, m in baseline.model.named_modules()
                  if hasattr(m, "in_features") and not n.endswith("lm_head")), default=None)
    if "calibration" in ran:
        findings += calibration_checks(config=config, eval_sets=policy.eval_sets, tokenizer=baseline.tokenizer,
                                       widest_input=widest)
    findings += stack_checks(candidate_sha=candidate.sha256, registry=registry) if "stack" in ran else []
    if not {"modules", "sensitivity"} & set(ran):
        return Diagnosis(baseline=baseline.ref, candidate=candidate.ref, use_case=use_case, findings=_rank(findings),
                         shape={"shape": "not measured", "targets": [], "text": "the module instruments did not run"},
                         table=ModuleTable(rows=[], logits={}, tokens=0), sensitivity=[],
                         seconds=time.perf_counter() - started, instruments=ran)
    ids = probe_tokens(tokenizer=baseline.tokenizer, use_case=use_case, tokens=tokens, policies=policies)
    table = compare_modules(baseline=baseline.model, candidate=candidate.model, tokens=ids, bits=config.get("bits"),
                            group_size=config.get("group_size"), progress=progress)
    shape = shape_verdict(table)
    sens = sensitivity(baseline=baseline.model, candidate=candidate.model, table=table, tokens=ids, top=top) \
        if "sensitivity" in ran else []
    if shape["shape"] == "localized":
        target = shape["targets"][0]
        kind = "module" if target in {r["name"] for r in table.rows} and not target.split(".")[-1].isdigit() else "block"
        recovered = next((s for s in sens if s["unit"] == target or target.startswith(s["unit"] + ".")), None)
        extra = f"; keeping its unit in full precision recovers {recovered['recovered_share']:.0%} of the KL" if recovered else ""
        ratio = max(severity(r)[0] for r in table.rows if r["name"] == target or r["unit"] == target)
        findings.append({"kind": kind, "target": target, "severity": "warning",
                         "score": round(ratio, 2) if math.isfinite(ratio) else None, "text": shape["text"] + extra})
    return Diagnosis(baseline=baseline.ref, candidate=candidate.ref, use_case=use_case, findings=_rank(findings),
                     shape=shape, table=table, sensitivity=sens, seconds=time.perf_counter() - started,
                     tokens_used=len(ids), instruments=ran)
