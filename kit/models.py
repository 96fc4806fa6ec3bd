"""Resolve a model reference to a loaded model + tokenizer, verified against its recorded hashes first.

A reference is an embedded alias (``smollm2-135m``, prepared by :mod:`kit.embedded`), a baseline
name (the store, :mod:`kit.baselines`), a local folder (a baseline, a kit artifact or any
Hugging Face checkpoint), or a Hugging Face hub id (online only).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from kit.baselines import store_names, store_path
from kit.console import hf_progress, progress_default
from kit.devices import check_device, default_device
from kit.embedded import ALIASES, DEFAULT_MODEL, EmbeddedModel, embedded_dir, prepare_baseline
from kit.engines import DEFAULT_ENGINE, ENGINES, EngineInfo
from kit.environment import hub_offline
from kit.errors import KitError
from kit.log_filters import quiet_int8_cast_warning
from kit.model_files import BASELINE_FILE, QUANT_FILE, config_max_positions, verify_folder

# ALIASES, DEFAULT_MODEL, EmbeddedModel, prepare_baseline (kit.embedded), check_device, default_device
# (kit.devices) and the file names (kit.model_files) are defined there and stay importable from here.
__all__ = [
    "ALIASES",
    "BASELINE_FILE",
    "DEFAULT_MODEL",
    "PLACED_ON_LOAD",
    "QUANT_FILE",
    "EmbeddedModel",
    "LoadedModel",
    "ask",
    "check_context_length",
    "check_device",
    "check_engine",
    "default_device",
    "load_model",
    "prepare_baseline",
    "resolve_path",
]

#: Libraries (a quantization log's ``library``) whose saved weights transformers places on the device while
#: loading (``device_map``); everything else loads in a dtype and moves after. Quantization adapters read it too.
PLACED_ON_LOAD = frozenset({"bitsandbytes"})


@dataclasses.dataclass
class LoadedModel:
    """A model ready for the harness, with where it came from and its weights hash."""

    model: Any
    tokenizer: Any
    ref: str
    path: Path | None
    sha256: str | None
    device: str
    quantization: dict[str, Any] | None = None
    baseline: dict[str, Any] | None = None
    engine: EngineInfo | None = None  # None: the reference engine, its backend read from the model
    rss_after_load_bytes: int | None = None  # the process's resident memory right after this model loaded
    served: dict[str, Any] | None = None  # the packed engine's module counts and group size

    def weight_bytes(self) -> int:
        """Bytes held by parameters and buffers (quantized storage counted as stored, packed kernels' buffers too)."""
        return int(self.model.get_memory_footprint())

    def engine_info(self) -> EngineInfo:
        """The engine this model runs on (reference: its kernels' library and its float dtype)."""
        if self.engine is not None:
            return self.engine
        bnb = (self.quantization or {}).get("library") == "bitsandbytes"
        return EngineInfo(name=DEFAULT_ENGINE, backend="bitsandbytes" if bnb else "torch",
                          activations=str(self.model.dtype).replace("torch.", ""))

    def info(self) -> dict[str, Any]:
        """A JSON-ready description for records."""
        q = self.quantization or {}
        return {
            "ref": self.ref,
            "path": str(self.path) if self.path else None,
            "sha256": self.sha256,
            "dtype": str(self.model.dtype).replace("torch.", ""),
            "device": self.device,
            "parameters": int(sum(p.numel() for p in self.model.parameters())),
            "weight_bytes": self.weight_bytes(),
            "method": q.get("method", "none"),
            "bits": q.get("bits"),
            "baseline": q.get("baseline") or _baseline_ref(self),
            "engine": self.engine_info().to_dict(),
            **({"served": self.served} if self.served else {}),
        }


def _baseline_ref(loaded: LoadedModel) -> dict[str, Any] | None:
    if loaded.baseline is None:
        return None
    return {"ref": loaded.baseline.get("alias", loaded.ref), "sha256": loaded.sha256}


def resolve_path(ref: str) -> Path | None:
    """The local folder behind ``ref`` (preparing an alias's baseline), or None for a hub id.

    Args:
        ref: alias, baseline name (the store), local folder or hub id.
    """
    if ref in ALIASES:
        return prepare_baseline(ref)
    stored = store_path(ref)
    if stored is not None:  # a baseline added with `kit baseline add`
        return stored
    path = Path(ref).expanduser()
    if ".partial-" in path.name:  # kit.io.atomic_dir's temp folder: an interrupted write
        raise KitError(f"{ref} is an unfinished write (interrupted run); delete it and run the command again")
    if path.exists():
        if not path.is_dir() or not (path / "config.json").is_file():
            raise KitError(f"{ref} is not a model folder (no config.json); pass a folder saved by save_pretrained "
                           f"or an alias ({', '.join(ALIASES)})")
        return path
    if ref.count("/") == 1 and not ref.startswith((".", "/", "~")):
        if not hub_offline() or _in_hub_cache(ref):
            return None  # a hub id
        raise KitError(f"model folder '{ref}' not found (offline, so it is not tried as a hub id); check the path, "
                       f"or use a baseline name ({_known()})")
    raise KitError(f"model '{ref}' not found: not an alias or baseline name ({_known()}), folder or hub id; "
                   "add yours with `kit baseline add NAME --from FOLDER`")


def _known() -> str:
    return ", ".join(sorted({*ALIASES, *store_names()}))


def _in_hub_cache(ref: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    return isinstance(try_to_load_from_cache(ref, "config.json"), str)


def check_context_length(ref: str, context_length: int) -> None:
    """Refuse a context longer than the model's ``max_position_embeddings``, from its config.json (before loading).

    Args:
        ref: alias, folder or hub id (hub ids and unprepared aliases are checked after loading).
        context_length: tokens per perplexity window.
    """
    path = embedded_dir(ref) if ref in ALIASES else store_path(ref) or Path(ref).expanduser()
    if not (path / "config.json").is_file():
        return
    limit = config_max_positions(path)
    if limit is not None and context_length > limit:
        raise KitError(f"--context-length {context_length} exceeds the model's maximum of {limit} tokens "
                       f"(max_position_embeddings in {path / 'config.json'}); pass --context-length {min(limit, 512)}")


def check_engine(engine: str, *, device: str, quant: dict[str, Any] | None, path: Path | None) -> None:
    """Refuse an engine that cannot run this model here (one line naming the fix), before any weights load.

    Args:
        engine: ``reference`` or ``packed`` (:data:`kit.engines.ENGINES`).
        device: the checked device.
        quant: the artifact's quantization log (None for a baseline).
        path: the model folder (None for a hub id).
    """
    if engine not in ENGINES:
        raise KitError(f"unknown engine '{engine}'; use --engine {' or '.join(ENGINES)}")
    if engine == DEFAULT_ENGINE:
        return
    from kit.serving import check_servable

    check_servable(device=device, quant=quant, path=path)


def _rss_bytes() -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def load_model(
    ref: str,
    *,
    device: str | None = None,
    dtype: str | None = None,
    trust_remote_code: bool = False,
    engine: str = DEFAULT_ENGINE,
) -> LoadedModel:
    """Load ``ref`` (alias, folder, or hub id) from safetensors onto ``device``, on the reference or packed engine.

    Args:
        ref: ``smollm2-135m``, a local folder, or a hub id such as ``org/name``.
        device: ``cpu``, ``cuda`` or ``cuda:N``; automatic when None.
        dtype: ``float32``/``bfloat16``/``float16`` for unquantized weights; float32 when None (reference engine).
        trust_remote_code: allow custom modelling code from the checkpoint (off by default; a store baseline
            added with ``--trust-remote-code`` has its hashed code accepted).
        engine: ``reference`` (dequantized, the model's float dtype) or ``packed`` (a compressed-tensors
            artifact's own integer codes on packed CPU kernels, bfloat16 activations; docs/engines.md).
    """
    import torch
    from safetensors import SafetensorError
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = check_device(device if device or engine == DEFAULT_ENGINE else "cpu")  # packed: CPU kernels
    path = resolve_path(ref)
    source = str(path) if path else ref
    sha, baseline, quant = verify_folder(path) if path else (None, None, None)  # before any weights load
    check_engine(engine, device=device, quant=quant, path=path)
    if engine != DEFAULT_ENGINE and path is not None:
        if dtype not in (None, "bfloat16"):
            raise KitError(f"the packed engine runs in bfloat16; drop dtype={dtype!r} or use engine='reference'")
        return _load_packed(ref, path=path, sha=sha, quant=quant)
    trust_remote_code = trust_remote_code or bool((baseline or {}).get("trust_remote_code"))  # accepted when added
    kwargs: dict[str, Any] = {"use_safetensors": True, "trust_remote_code": trust_remote_code}
    if quant and quant.get("library") in PLACED_ON_LOAD:
        kwargs["device_map"] = device  # bitsandbytes places weights while loading
        quiet_int8_cast_warning()
    else:
        kwargs["dtype"] = getattr(torch, dtype or "float32")
    try:
        with hf_progress(progress_default()):  # headless: no loading bars in logs or notebook outputs
            model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=trust_remote_code,
                                                  clean_up_tokenization_spaces=False)  # destructive for BPE (strips spaces)
    except OSError as exc:
        raise KitError(f"could not load '{ref}': {str(exc).splitlines()[0]} (offline? use an alias or a local folder)") from exc
    except SafetensorError as exc:
        raise KitError(f"could not load '{ref}': a weights file is damaged ({str(exc).splitlines()[0]}); "
                       "re-create or re-download the model") from None
    if "device_map" not in kwargs:
        model.to(device)
    model.eval()
    return LoadedModel(
        model=model, tokenizer=_tokenizer(tokenizer), ref=ref, path=path, sha256=sha, device=device,
        quantization=quant, baseline=baseline, rss_after_load_bytes=_rss_bytes(),
    )


def _tokenizer(tokenizer: Any) -> Any:
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _load_packed(ref: str, *, path: Path, sha: str | None, quant: dict[str, Any] | None) -> LoadedModel:
    """A checked compressed-tensors artifact on the packed engine (see :func:`kit.serving.load_packed`)."""
    from safetensors import SafetensorError
    from transformers import AutoTokenizer

    from kit.serving import load_packed, packed_engine

    try:
        model, served = load_packed(path)
    except SafetensorError as exc:
        raise KitError(f"could not load '{ref}': a weights file is damaged ({str(exc).splitlines()[0]}); "
                       "re-create the artifact with `kit quantize`") from None
    tokenizer = AutoTokenizer.from_pretrained(path, clean_up_tokenization_spaces=False)
    return LoadedModel(model=model, tokenizer=_tokenizer(tokenizer), ref=ref, path=path, sha256=sha, device="cpu",
                       quantization=quant, engine=packed_engine(), rss_after_load_bytes=_rss_bytes(), served=served)


def ask(loaded: LoadedModel, question: str, *, max_new_tokens: int = 32) -> str:
    """Ask the model one question through its chat template and return the greedy answer.

    Args:
        loaded: a model from :func:`load_model`.
        question: the user's message.
        max_new_tokens: answer length limit.
    """
    import torch

    tok = loaded.tokenizer
    prompt = tok.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                     add_generation_prompt=True) if tok.chat_template else question
    ids = tok(prompt, return_tensors="pt", add_special_tokens=False).to(loaded.device)
    with torch.inference_mode():
        out = loaded.model.generate(**ids, do_sample=False, max_new_tokens=max_new_tokens,
                                    pad_token_id=tok.pad_token_id)
    return tok.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True).strip()
