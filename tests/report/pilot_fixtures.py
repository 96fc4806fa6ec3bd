"""Fixed pilot records for the report tests: a baseline, an int8 candidate that passes and an NF4 one that fails.

Use ``from pilot_fixtures import make_fixed_pilot``.
"""

from __future__ import annotations

from helpers import flip, synthetic_record

MIB = 2**20
_LIMITS = (("perplexity", "stdlib-docs", "lower", "relative", 0.10, 4000),
           ("accuracy", "everyday-mc", "higher", "absolute", 0.06, 200),
           ("contains_match", "short-answers", "higher", "absolute", 0.15, 40),
           ("top1_agreement", "stdlib-docs", "higher", "absolute", 0.12, 4000))


def _policy():
    from kit.govern.policy import MetricLimit, UseCasePolicy

    return UseCasePolicy(
        name="chat-assistant", description="fixed test policy (not the bundled file, which is tuned over time)",
        default_method="bnb-int8", eval_sets=("stdlib-docs", "everyday-mc", "short-answers"),
        metrics=tuple(MetricLimit(metric=m, eval_set=s, direction=d, limit_kind=k, limit=v, min_samples=n)
                      for m, s, d, k, v, n in _LIMITS))


FIXED_POLICY = _policy()
INT8, NF4 = "8" * 64, "4" * 64


def _speed(record, *, p50, p95, tok_s, repeats=True):
    record["latency"] = {"decode_ms_p50": p50, "decode_ms_p95": p95, "prefill_ms": 40.0, "decode_ms_mean": 1000 / tok_s,
                         "repeats": 3}
    if repeats:  # per-repeat values (records written before they were kept have none: NF4 below)
        record["latency"] |= {"prefill_ms_repeats": [38.0, 40.0, 45.0],
                              "decode_ms_repeats": [1000 / tok_s - 1, 1000 / tok_s, 1000 / tok_s + 2]}
    record["throughput"] = {"decode_tokens_per_s": tok_s}
    return record


MC = [1, 0, 1] * 77  # 231 items, 154 right
GEN = [1, 1, 0] * 13 + [1, 0]  # 41 items


def pilot_records(*, method, sha, bits, ppl, top1, kl, mc_lost, mc_gained, gen_lost, weight_bytes, tok_s, p50, p95):
    """The three chat-assistant records of one model (baseline when ``method`` is ``none``)."""
    common = {"sha": sha, "method": method, "bits": bits}
    text = synthetic_record(kind="text", perplexity=ppl, top1=top1, kl=kl, **common)
    mc = synthetic_record(kind="multiple_choice", correct=flip(MC, lost=mc_lost, gained=mc_gained), **common)
    gen = synthetic_record(kind="generation", correct=flip(GEN, lost=gen_lost, gained=0), **common)
    for r in (text, mc, gen):
        r["memory"]["weight_bytes"] = weight_bytes
        r["model"]["weight_bytes"] = weight_bytes
        r["environment"]["hardware"] = {"device": "cpu", "cpu": "Test CPU", "cpu_capability": "AVX2", "torch_threads": 2}
        r["environment"]["git_commit"] = "0" * 40
        r["memory"]["peak_rss_bytes"] = weight_bytes + 300 * MIB
    _speed(text, p50=p50, p95=p95, tok_s=tok_s, repeats=method != "bnb-nf4")
    return [text, mc, gen]


def imported_speeds():
    """Speed records of the baseline (fp32 and bf16) and of int8, measured on a GPU box and imported (kit.speed/1)."""
    from helpers import BASE_SHA

    def one(sha, method, dtype, tok_s):
        return {"schema": "kit.speed/1", "source": "gpu-box.json",
                "model": {"ref": "x", "sha256": sha, "method": method, "dtype": dtype,
                          "engine": {"name": "reference", "backend": "bitsandbytes" if method != "none" else None,
                                     "activations": "float16" if method != "none" else dtype}},
                "hardware": {"label": "team GPU box (H100)", "device": "cuda", "gpu": "H100"},
                "latency": {"decode_ms_p50": 1000 / tok_s, "decode_ms_mean": 1000 / tok_s, "prefill_ms": 5.0,
                            "decode_ms_repeats": [1000 / tok_s] * 3, "prefill_ms_repeats": [4.0, 5.0, 6.0]},
                "throughput": {"decode_tokens_per_s": tok_s}, "memory": {"weight_bytes": 2**28}}

    return [one(BASE_SHA, "none", "float32", 100.0), one(BASE_SHA, "none", "bfloat16", 200.0),
            one(INT8, "bnb-int8", None, 160.0)]


def make_fixed_pilot(folder):
    """A registry in ``folder`` holding one fixed two-method pilot of smollm2-135m for chat-assistant: (path, entries)."""
    from helpers import BASE_SHA

    from kit.govern.gate import gate
    from kit.govern.registry import Registry

    policy = FIXED_POLICY
    base = pilot_records(method="none", sha=BASE_SHA, bits=None, ppl=11.71, top1=None, kl=None, mc_lost=0,
                         mc_gained=0, gen_lost=0, weight_bytes=538_060_288, tok_s=40.0, p50=25.0, p95=31.0)
    cands = {
        "bnb-int8": (pilot_records(method="bnb-int8", sha=INT8, bits=8, ppl=11.89, top1=0.93, kl=0.02, mc_lost=4,
                                   mc_gained=4, gen_lost=2, weight_bytes=170_000_000, tok_s=20.0, p50=50.0, p95=61.0),
                     {"method": "bnb-int8", "bits": 8, "weight_bytes": 170_000_000, "quantize_seconds": 3.2,
                      "library": "bitsandbytes"}),
        "bnb-nf4": (pilot_records(method="bnb-nf4", sha=NF4, bits=4, ppl=14.52, top1=0.80, kl=0.25, mc_lost=12,
                                  mc_gained=3, gen_lost=3, weight_bytes=120_000_000, tok_s=30.0, p50=33.0, p95=40.0),
                    {"method": "bnb-nf4", "bits": 4, "weight_bytes": 118_000_000, "quantize_seconds": 2.1,
                     "library": "bitsandbytes"}),
    }
    path = folder / "registry.sqlite"
    with Registry.open(path) as reg:
        entries = [reg.add(baseline=base, candidate=recs, verdict=gate(baseline=base, candidate=recs, policy=policy),
                           quant_config=config, volume_per_day=450_000, reason=None if m == "bnb-int8" else "size")
                   for m, (recs, config) in cands.items()]
    return path, entries
