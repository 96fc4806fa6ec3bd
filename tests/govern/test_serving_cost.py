"""Serving cost arithmetic with stated price, utilisation and volume (numbers computed by hand)."""

import math

import pytest

from kit.errors import KitError
from kit.govern.serving_cost import ServingPrice, cost_per_million_tokens, monthly_cost, served_baseline, serving_cost_tables

PRICE = ServingPrice(hour_price=2.0, utilisation=0.5, tokens_per_day=30_000_000)


def test_cost_per_million_tokens_and_month_by_hand():
    # 40 tok/s × 3600 s × 0.5 busy = 72,000 tokens per paid hour → 2 USD / 72,000 × 1e6 = 27.78 USD per 1M
    assert cost_per_million_tokens(decode_tokens_per_s=40, hour_price=2.0, utilisation=0.5) == pytest.approx(27.7778,
                                                                                                            rel=1e-4)
    # 30M tokens/day = 30 × 27.78 = 833.33 USD/day; × 30 days = 25,000 USD/month
    assert monthly_cost(usd_per_million=2 / 72_000 * 1e6, tokens_per_day=30_000_000) == pytest.approx(25_000)
    # full utilisation halves it
    assert cost_per_million_tokens(decode_tokens_per_s=40, hour_price=2.0, utilisation=1.0) == pytest.approx(13.8889,
                                                                                                            rel=1e-4)


@pytest.mark.parametrize("bad", [0, -1.0, math.inf, math.nan, 1.5, "0.5", True])
def test_bad_utilisation_is_refused(bad):
    with pytest.raises(KitError, match="utilisation must be a finite number > 0 and ≤ 1"):
        ServingPrice(hour_price=2.0, utilisation=bad, tokens_per_day=1)


def test_bad_price_and_speed_are_refused():
    with pytest.raises(KitError, match="hour_price must be a finite number > 0"):
        ServingPrice(hour_price=math.nan, utilisation=0.5, tokens_per_day=1)
    with pytest.raises(KitError, match="decode_tokens_per_s must be a finite number > 0"):
        cost_per_million_tokens(decode_tokens_per_s=0, hour_price=2.0, utilisation=0.5)


def test_savings_against_the_served_baseline_and_the_fp32_reference():
    fp32 = {"name": "baseline fp32", "form": "fp32", "engine": "reference", "hardware": "cpu", "decode_tokens_per_s": 40.0}
    bf16 = {"name": "baseline bf16", "form": "bf16", "engine": "reference", "hardware": "cpu", "decode_tokens_per_s": 50.0}
    served = served_baseline([fp32, bf16])
    assert served["form"] == "bf16" and served["why"] == "the faster of fp32, bf16 measured in this run"
    assert "bf16 not measured" in served_baseline([fp32])["why"]
    gptq = {"name": "gptq", "engine": "packed", "hardware": "cpu", "decode_tokens_per_s": 100.0}
    slow = {"name": "bnb-int8", "engine": "reference", "hardware": "cpu", "decode_tokens_per_s": 20.0}
    vs_served, vs_ref = serving_cost_tables(models=[gptq, slow], reference=fp32, served=served, price=PRICE)
    assert vs_served["versus"].startswith("the served baseline (bf16") and vs_ref["versus"].startswith("the fp32 reference")
    # bf16 at 50 tok/s: 2 / 90,000 × 1e6 = 22.22 USD per 1M; gptq at 100 tok/s: 11.11 → −50 %
    assert vs_served["baseline_usd_per_1M_tokens"] == pytest.approx(22.2222, rel=1e-4)
    g = vs_served["rows"][0]
    assert g["usd_per_1M_tokens"] == pytest.approx(11.1111, rel=1e-4) and g["usd_per_month"] == pytest.approx(10_000)
    assert g["cost_change_pct"] == pytest.approx(-50.0) and g["note"] == "saves"
    assert vs_ref["rows"][0]["cost_change_pct"] == pytest.approx(-60.0)  # 11.11 vs fp32's 27.78
    s = vs_ref["rows"][1]  # 20 tok/s: 55.56 USD per 1M, twice fp32's
    assert s["cost_change_pct"] == pytest.approx(100.0) and s["note"] == "costs more"
    with pytest.raises(KitError, match="different hardware"):
        served_baseline([fp32, bf16 | {"hardware": "gpu"}])
