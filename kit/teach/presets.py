"""The run sizes the pilot panel offers, and what each size means (quick look is not a validation)."""

from __future__ import annotations

import dataclasses

from kit.quant.spec import DEFAULT_CALIBRATION

__all__ = ["PRESETS", "Preset"]


@dataclasses.dataclass(frozen=True)
class Preset:
    """A run size: calibration and evaluation sizes, whether to time, and what the size means."""

    samples: int
    seq_len: int
    max_tokens: int  # text sets: tokens scored (0 = whole set)
    limit: int  # multiple-choice / generation sets: items (0 = whole set)
    measure_speed: bool
    note: str


#: The sizes the panel offers; "quick look" is the default first run.
PRESETS = {
    "quick look": Preset(samples=8, seq_len=64, max_tokens=256, limit=4, measure_speed=False, note=(
        "quick look: 256 text tokens and 4 items per task set, no speed timing; about 1-2 minutes on a quiet "
        "2-core CPU (about 110 CPU-seconds), longer on a shared one. "
        "Far below the policy's sample minimums, so the gate cannot pass it: a look at the flow, not a validation.")),
    "start small": Preset(samples=16, seq_len=128, max_tokens=1024, limit=50, measure_speed=False, note=(
        "start small: 1,024 text tokens and 50 items per task set; about 10 minutes on a busy 2-core CPU. "
        "Still below the policy's minimums: not a validation.")),
    "validation (full sets)": Preset(
        samples=DEFAULT_CALIBRATION.samples, seq_len=DEFAULT_CALIBRATION.seq_len, max_tokens=0, limit=0,
        measure_speed=True, note=("validation: the whole eval sets, the size the policy asks for; the only size "
                                  "whose verdict can pass. Tens of minutes on CPU.")),
    "custom": Preset(samples=16, seq_len=128, max_tokens=1024, limit=0, measure_speed=True,
                     note="custom: the sizes as set below (0 = whole set)."),
}
