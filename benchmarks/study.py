"""The recovery study: which 4-bit scheme should each calibrated method use? One run, one table.

    python benchmarks/study.py                 # full study, quiet 2-core CPU (~40 min); resumable
    python benchmarks/study.py --quick --out /tmp/study-smoke   # tiny sizes, a smoke run

For RTN (the reference), GPTQ, AWQ and AutoRound it quantizes the embedded model under each
choice that matters — symmetric vs asymmetric int4, group size 32/64 or one scale per output
row, GPTQ activation ordering and dampening, AWQ's grid and its clipping search (on and off),
AutoRound's step count, calibration size and domain — and scores every result on the *full*
``stdlib-docs`` perplexity set and the full ``everyday-mc`` multiple-choice set.

recovery = (PPL_rtn − PPL_method) / (PPL_rtn − PPL_baseline), against RTN at the same weight
format (symmetry and group size): 0 is no better than rounding, 1 is back to the baseline.
Anchor: the GPTQ paper's OPT-125M 4-bit figure, about 64 %.

Each finished configuration is saved at once (``<out>/.study-partial.json``), so an interrupted
run resumes where it stopped. At the end the table is merged into ``<out>/results.json`` under
``study`` and ``<out>/RESULTS.md`` is re-rendered with every other section kept.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_file import merge_section, run_facts

from kit.console import stage
from kit.eval.harness import Protocol, evaluate
from kit.io import atomic_write_json
from kit.models import DEFAULT_MODEL, load_model
from kit.quant.methods.llmc import SCHEMES, LlmcScheme
from kit.quant.quantize import quantize
from kit.quant.spec import CalibrationSpec, QuantSpec

ANCHOR = 0.64  # GPTQ paper, Table 3: OPT-125M 4-bit, RTN → GPTQ on WikiText-2
DEFAULT_CAL = CalibrationSpec(samples=64, seq_len=256)  # the kit's default calibration


#: The fixed reference a study row's scheme is written against: llm-compressor's own defaults
#: (symmetric, static actorder, 1 % dampening, a 20-point AWQ grid on every sample and no
#: clipping search, min-max scales, AutoRound's 200 steps at 1/steps, groups). Rows name only
#: what differs from it and run with every field explicit, so a row means the same
#: configuration whatever the sanctioned schemes are when it runs.
REFERENCE = LlmcScheme()


@dataclasses.dataclass(frozen=True)
class Config:
    """One row of the study: a method, its group size, scheme changes from :data:`REFERENCE` and calibration."""

    method: str
    group_size: int | None = 64  # None with ``per_channel`` in the scheme: one scale per output row
    scheme: tuple[tuple[str, Any], ...] = ()
    calibration: CalibrationSpec = DEFAULT_CAL

    @property
    def symmetric(self) -> bool:
        """Whether the weights are symmetric int (no zero point)."""
        return bool(dict(self.scheme).get("symmetric", REFERENCE.symmetric))

    @property
    def explicit(self) -> tuple[tuple[str, Any], ...]:
        """Every scheme field, as the overrides passed to quantize (nothing taken from the sanctioned scheme)."""
        full = REFERENCE.with_overrides(dict(self.scheme))
        return tuple((f.name, getattr(full, f.name)) for f in dataclasses.fields(full))

    @property
    def key(self) -> str:
        """A stable name for the row (and the resume file)."""
        cal = self.calibration
        calib = "" if self.method == "rtn" else f" cal={cal.name}:{cal.samples}x{cal.seq_len}"
        groups = "per-channel" if self.group_size is None else f"g{self.group_size}"
        return f"{self.method} {groups} {'sym' if self.symmetric else 'asym'}" + "".join(
            f" {k}={v}" for k, v in self.scheme if k not in ("symmetric", "per_channel")) + calib


def _configs(cal: CalibrationSpec, smaller: tuple[CalibrationSpec, ...]) -> list[Config]:
    """The study's rows: RTN references, then GPTQ and AWQ variations around asymmetric int4, group 64.

    Symmetric vs asymmetric is measured at group 64 for every method; the other choices (group 32,
    GPTQ's ordering and dampening, calibration size and domain, AWQ's grid and the samples its
    grid search scores, AWQ's scales from activations alone vs activations and weights, how scales
    are fitted: min-max, weight MSE or activation-weighted MSE)
    are varied one at a time around the asymmetric scheme, which recovers more for RTN and GPTQ alike.
    """
    sym, asym = (("symmetric", True),), (("symmetric", False),)
    off = dataclasses.replace(cal, name="numbers-calib")
    rows = [Config("rtn", g, s) for s in (sym, asym) for g in (64, 32)]
    rows += [Config("rtn", 64, (*asym, ("observer", "mse")))]
    rows += [Config("gptq", 64, sym, cal), Config("gptq", 64, asym, cal), Config("gptq", 32, asym, cal),
             Config("gptq", 64, (*asym, ("actorder", None)), cal),
             Config("gptq", 64, (*asym, ("dampening_frac", 0.1)), cal),
             *(Config("gptq", 64, asym, c) for c in smaller), Config("gptq", 64, asym, off),
             *(Config("gptq", 64, (*asym, ("observer", o)), cal) for o in ("mse", "imatrix_mse"))]
    grid10 = (*asym, ("n_grid", 10))
    rows += [Config("awq", 64, asym, cal), *(Config("awq", 64, (*asym, ("n_grid", n)), cal) for n in (10, 5)),
             *(Config("awq", 64, (*grid10, ("search_samples", n)), cal) for n in (16, 8))]
    fast = (*grid10, ("search_samples", 16))
    rows += [Config("awq", 64, (*fast, ("observer", o)), cal) for o in ("imatrix_mse", "mse")]
    rows += [Config("awq", 64, (("symmetric", True), *fast[1:], ("observer", "imatrix_mse")), cal),
             Config("awq", 64, (*fast, ("observer", "imatrix_mse")), smaller[0])]
    rows += [Config("awq", 64, (*fast, ("duo_scaling", False)), cal), Config("awq", 32, fast, cal)]
    return rows + _paper_rows(cal, off)


#: AutoRound's two step counts (per block). Its CPU time grows with steps × blocks; the study's
#: budget is ≤ 15 minutes a row on a quiet 2-core CPU (the lead's timing run decides the pair).
AUTOROUND_ITERS = (10, 25)
#: Step sizes tried at the smaller step count besides auto-round's rule 1/iters (0.1 at 10 steps):
#: its rate at its default 200 steps (0.005) and one between.
AUTOROUND_LRS = (0.005, 0.02)


def _paper_rows(cal: CalibrationSpec, off: CalibrationSpec) -> list[Config]:
    """AWQ with its clipping search and without, and AutoRound (two step counts, three step sizes), beside RTN and GPTQ.

    Groups 32/64 and per channel.
    Every row is asymmetric; AWQ uses the sanctioned fast grid (10 points on 16 samples), GPTQ its
    sanctioned activation-weighted scales; off-domain calibration is ``numbers-calib``.
    """
    asym, chan = (("symmetric", False),), (("per_channel", True),)
    fast = (*asym, ("n_grid", 10), ("search_samples", 16))
    clip = (*fast, ("clip", True))
    gptq = (*asym, ("observer", "imatrix_mse"))
    few, many = ((*asym, ("iters", n)) for n in AUTOROUND_ITERS)
    return [Config("rtn", None, (*asym, *chan)), Config("gptq", None, (*gptq, *chan), cal),
            Config("gptq", 32, gptq, cal),
            *(Config("awq", g, clip, cal) for g in (64, 32)),
            Config("awq", None, (*fast, *chan), cal), Config("awq", None, (*clip, *chan), cal),
            Config("awq", 64, fast, off), Config("awq", 64, clip, off),
            Config("autoround", 64, few, cal), Config("autoround", 64, many, cal),
            *(Config("autoround", 64, (*few, ("lr", lr)), cal) for lr in AUTOROUND_LRS),
            Config("autoround", 32, few, cal), Config("autoround", None, (*few, *chan), cal),
            Config("autoround", 64, few, off)]


FULL = _configs(DEFAULT_CAL, (CalibrationSpec(samples=16, seq_len=256), CalibrationSpec(samples=8, seq_len=128)))
_TINY = CalibrationSpec(samples=4, seq_len=64)
QUICK = [Config("rtn", 64, (("symmetric", True),)), Config("rtn", 64, (("symmetric", False),)),
         Config("gptq", 64, (("symmetric", True),), _TINY),
         Config("awq", 64, (("symmetric", False), ("search_samples", 2)), _TINY),
         Config("rtn", None, (("symmetric", False), ("per_channel", True))),
         Config("awq", None, (("symmetric", False), ("search_samples", 2), ("clip", True), ("per_channel", True)), _TINY),
         Config("autoround", 64, (("symmetric", False), ("iters", 2)), dataclasses.replace(_TINY, name="numbers-calib"))]


def _score(model: Any, *, protocol: Protocol, mc_limit: int | None) -> dict[str, Any]:
    text = evaluate(model=model, eval_set="stdlib-docs", protocol=protocol, measure_speed=False, progress=False)
    mc = evaluate(model=model, eval_set="everyday-mc", protocol=Protocol(limit=mc_limit), measure_speed=False,
                  progress=False)
    return {"ppl": round(text["accuracy"]["perplexity"], 4), "tokens": text["accuracy"]["tokens_scored"],
            "mc_acc": round(mc["accuracy"]["accuracy"], 4), "mc_items": mc["accuracy"]["items"]}


def _recovery(rows: list[dict[str, Any]], baseline_ppl: float) -> None:
    """Fill each row's recovery against min-max RTN (plain rounding) at the same symmetry and group size."""
    rtn = {(r["symmetric"], r["group_size"]): r["ppl"] for r in rows
           if r["method"] == "rtn" and not r["scheme"].get("observer")}
    for r in rows:
        ref = rtn.get((r["symmetric"], r["group_size"]))
        loss = None if ref is None else ref - baseline_ppl
        r["recovery"] = round((ref - r["ppl"]) / loss, 3) if loss and loss > 0 else None


def _recommend(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per calibrated method: the best-recovering row at the kit's default calibration and group size 64."""
    out = {}
    for method in ("gptq", "awq", "autoround"):
        same = [r for r in rows if r["method"] == method and r["group_size"] == 64
                and r["calibration"] == DEFAULT_CAL.to_dict() and r["recovery"] is not None]
        if same:
            best = max(same, key=lambda r: r["recovery"])
            out[method] = {"key": best["key"], "recovery": best["recovery"], "scheme": best["scheme"]}
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the study (resumable) and merge its table into the results files."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="four tiny configurations on small sets: a smoke run")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent), help="results folder (default benchmarks/)")
    ap.add_argument("--only", help="with --quick: run only the rows whose key contains this text (a smoke run of some rows)")
    args = ap.parse_args(argv)
    if args.only and not args.quick:
        ap.error("--only runs part of the table; the full study keeps every row together: use it with --quick")
    configs = [c for c in (QUICK if args.quick else FULL) if not args.only or args.only in c.key]
    protocol = Protocol(max_tokens=1024) if args.quick else Protocol()  # full: every token of stdlib-docs
    mc_limit = 40 if args.quick else None
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    partial = out / ".study-partial.json"
    facts = run_facts(argv if argv is not None else sys.argv[1:], script="benchmarks/study.py")
    done: dict[str, Any] = json.loads(partial.read_text()) if partial.exists() else {}
    if done.get("quick") != args.quick:
        done = {"quick": args.quick, "rows": {}}
    started = time.perf_counter()
    if "baseline" not in done:
        base = load_model(DEFAULT_MODEL, device="cpu")
        t0 = time.perf_counter()
        done["baseline"] = _score(base, protocol=protocol, mc_limit=mc_limit) | {
            "eval_s": round(time.perf_counter() - t0, 1)}
        atomic_write_json(partial, done)
        del base
    stage("baseline", f"ppl {done['baseline']['ppl']} on {done['baseline']['tokens']} tokens, "
          f"MC {done['baseline']['mc_acc']} on {done['baseline']['mc_items']} items ({done['baseline']['eval_s']} s)")
    with tempfile.TemporaryDirectory(prefix="kit-study-") as tmp:
        for i, c in enumerate(configs, 1):
            if c.key in done["rows"]:
                continue
            q = quantize(model=DEFAULT_MODEL, out=Path(tmp) / str(i), device="cpu", progress=False,
                         spec=QuantSpec(method=c.method, group_size=c.group_size, calibration=c.calibration,
                                        scheme=c.explicit))
            t0 = time.perf_counter()
            row = {"key": c.key, "method": c.method, "group_size": c.group_size, "symmetric": c.symmetric,
                   "scheme": dict(c.scheme),
                   "calibration": None if c.method == "rtn" else c.calibration.to_dict(),
                   "quantize_s": q.config["quantize_seconds"]} | _score(q.model, protocol=protocol, mc_limit=mc_limit)
            row["eval_s"] = round(time.perf_counter() - t0, 1)
            row["measured"] = {"commit": facts["commit"], "date": facts["date"]}
            done["rows"][c.key] = row
            atomic_write_json(partial, done)
            stage("study", f"[{i}/{len(configs)}] {c.key}: ppl {row['ppl']}, MC {row['mc_acc']}, "
                  f"quantize {row['quantize_s']} s")
            del q
    rows = [done["rows"][c.key] for c in configs]
    _recovery(rows, done["baseline"]["ppl"])
    section = facts | {"anchor": ANCHOR, "baseline": done["baseline"], "rows": rows,
                       "recommended": _recommend(rows), "seconds_this_run": round(time.perf_counter() - started, 1),
                       "sanctioned_now": {m: dataclasses.asdict(s) for m, s in SCHEMES.items()}}
    merge_section(out, "study", section, quick=args.quick)
    partial.unlink()
    for r in rows:
        print(f"{r['key']:<58} ppl {r['ppl']:>8} MC {r['mc_acc']:.4f} recovery {r['recovery']} "
              f"quantize {r['quantize_s']} s")
    for m, rec in section["recommended"].items():
        stage("study", f"{m}: best at the default calibration: {rec['key']} (recovery {rec['recovery']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
