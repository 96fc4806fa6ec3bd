"""Planted regressions: small declarative YAML configs in ``data/regressions/`` the kit applies reproducibly.

A config names a real ``kit quantize`` recipe (``quantize:``), weight faults applied on top
(``faults:``, see :mod:`kit.debug.faults`), an optional chat template swapped into the
tokenizer (``chat_template:``), what the configuration log claims (``log:``), the use case
whose gate catches it, and a hidden ``answer`` (cause, targets, fix, explanation) that only
:func:`kit.teach.check.diagnosis` reads. The base recipe's artifact is built once and cached.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import yaml

from kit.errors import KitError, nearest
from kit.io import atomic_dir, atomic_write_json, cache_dir
from kit.models import DEFAULT_MODEL

__all__ = ["CAUSES", "REHEARSAL_ITEMS", "REHEARSAL_TOKENS", "Regression", "base_artifact", "build_candidate",
           "check_planted_out", "fixed_candidate", "list_regressions", "load_candidate", "load_regression", "plant",
           "recipe", "regressions_dir"]

#: The default rehearsal of a planted regression's gate (tests, ``benchmarks/plants.py``; notebook 09's and
#: exercise 6's parameters): the first N text tokens / N items of other sets. A plant near its limits declares
#: a larger size of its own (``Regression.rehearsal_tokens``; :meth:`Regression.rehearsal_size` takes the larger).
REHEARSAL_TOKENS, REHEARSAL_ITEMS = 256, 20
#: What a planted regression's cause can be (the diagnosis's finding kinds).
CAUSES = ("module", "block", "scheme", "calibration", "chat_template", "tokenizer", "stack")


@dataclasses.dataclass(frozen=True)
class Regression:
    """One planted regression (``answer`` is the hidden solution; do not print it to learners)."""

    name: str
    title: str
    symptom: str
    use_case: str
    quantize: dict[str, Any]
    faults: tuple[dict[str, Any], ...]
    chat_template: str | None
    log: dict[str, Any]
    answer: dict[str, Any]
    path: Path
    #: Text tokens a rehearsal gate needs to tell this plant's fix from the use case's limits (YAML
    #: ``rehearsal: {max_tokens: N}``); None: the caller's rehearsal size.
    rehearsal_tokens: int | None = None

    def rehearsal_size(self, requested: int | None = REHEARSAL_TOKENS) -> int | None:
        """Text tokens this plant's rehearsal gate reads: the larger of the caller's size and its own.

        Args:
            requested: the caller's size; None asks for the full sets, which need no larger size.
        """
        if requested is None or self.rehearsal_tokens is None:
            return requested
        return max(requested, self.rehearsal_tokens)


def regressions_dir() -> Path:
    """The bundled ``data/regressions`` folder."""
    from kit.eval.sets import data_dir

    return data_dir() / "regressions"


def list_regressions() -> list[str]:
    """Names of the bundled planted regressions."""
    return sorted(p.stem for p in regressions_dir().glob("*.yaml"))


def load_regression(name: str) -> Regression:
    """Read and validate one planted regression (a bundled name or a YAML path).

    Args:
        name: e.g. ``misscaled-down-proj`` or a path.
    """
    path = Path(name) if name.endswith((".yaml", ".yml")) else regressions_dir() / f"{name}.yaml"
    if not path.is_file():
        raise KitError(f"no planted regression '{name}'{nearest(name, list_regressions())}; "
                       f"choose one of: {', '.join(list_regressions())}")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    missing = [k for k in ("title", "symptom", "use_case", "quantize", "answer") if k not in raw]
    if missing:
        raise KitError(f"{path}: missing {', '.join(missing)}")
    answer = raw["answer"]
    if answer.get("cause") not in CAUSES:
        raise KitError(f"{path}: answer.cause must be one of {', '.join(CAUSES)}")
    rehearsal = raw.get("rehearsal") or {}
    tokens = rehearsal.get("max_tokens") if isinstance(rehearsal, dict) else None
    if rehearsal and (set(rehearsal) != {"max_tokens"} or isinstance(tokens, bool) or not isinstance(tokens, int)
                      or tokens < 2):
        raise KitError(f"{path}: rehearsal must be {{max_tokens: N}} with a whole number N ≥ 2")
    return Regression(name=path.stem, title=raw["title"], symptom=raw["symptom"].strip(), use_case=raw["use_case"],
                      quantize=dict(raw["quantize"]), faults=tuple(raw.get("faults") or ()),
                      chat_template=raw.get("chat_template"), log=dict(raw.get("log") or {}), answer=dict(answer),
                      path=path, rehearsal_tokens=tokens)


def base_artifact(quantize: dict[str, Any], *, model: str = DEFAULT_MODEL, progress: bool = False) -> Path:
    """The real ``kit quantize`` artifact of a recipe, built once into the cache (keyed by the recipe).

    Args:
        quantize: keyword arguments of :func:`kit.quant.quantize.quantize` (method, bits, group_size, ...).
        model: the baseline.
        progress: progress bars.
    """
    from kit.quant.methods.llmc import SCHEMES
    from kit.quant.quantize import quantize as run

    recipe = {"model": model, **quantize}
    scheme = SCHEMES.get(str(quantize.get("method")))  # a new sanctioned scheme means a new artifact
    keyed = recipe | ({"scheme": dataclasses.asdict(scheme)} if scheme is not None else {})
    key = hashlib.sha256(json.dumps(keyed, sort_keys=True).encode()).hexdigest()[:16]
    out = cache_dir() / "debug" / f"{quantize.get('method', 'q')}-{key}"
    if not (out / "kit-quantization.json").is_file():
        run(model=model, out=out, overwrite=out.exists(), progress=progress, **quantize)
    return out


def load_candidate(ref: str | Path, *, device: str = "cpu") -> Any:
    """Load a candidate with dense weights (compressed-tensors artifacts decompressed) as a ``LoadedModel``.

    Args:
        ref: the artifact folder.
        device: where to load it.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, CompressedTensorsConfig

    from kit.model_files import verify_folder
    from kit.models import LoadedModel, load_model, resolve_path

    path = resolve_path(str(ref))
    if path is None:
        raise KitError(f"'{ref}' is a hub id; download the candidate and pass its folder")
    config = json.loads((path / "config.json").read_text())
    if (config.get("quantization_config") or {}).get("quant_method") != "compressed-tensors":
        return load_model(str(ref), device=device)
    sha, _, quant = verify_folder(path)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32, use_safetensors=True,
                                                 quantization_config=CompressedTensorsConfig(dequantize=True))
    tokenizer = AutoTokenizer.from_pretrained(path, clean_up_tokenization_spaces=False)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.to(device)  # type: ignore[arg-type]
    return LoadedModel(model=model.eval(), tokenizer=tokenizer, ref=str(ref), path=path, sha256=sha,
                       device=device, quantization=quant)


def _dense_copy(model: Any, *, baseline_path: Path) -> Any:
    """A plain fp32 model of the baseline's architecture holding ``model``'s weights (no quantization leftovers)."""
    import torch
    from transformers import AutoModelForCausalLM

    fresh = AutoModelForCausalLM.from_pretrained(baseline_path, dtype=torch.float32, use_safetensors=True)
    if model.lm_head.weight is not model.get_input_embeddings().weight:
        fresh.lm_head.weight = torch.nn.Parameter(fresh.lm_head.weight.detach().clone(), requires_grad=False)
        fresh.config.tie_word_embeddings = False
    source = model.state_dict()
    with torch.no_grad():
        for key, value in fresh.state_dict().items():
            value.copy_(source[key])
    return fresh


_SCHEME_KEYS = ("method", "bits", "group_size", "calibration", "samples", "seq_len", "seed")


def recipe(reg: Regression, *, fix: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``kit quantize`` arguments of the regression's base artifact, with a scheme fix applied.

    Args:
        reg: the planted regression.
        fix: a fix dict (``ignore``, ``tokenizer: baseline`` and/or scheme keys such as ``bits``, ``group_size``).
    """
    return {**reg.quantize, **{k: v for k, v in (fix or {}).items() if k in _SCHEME_KEYS}}


def build_candidate(reg: Regression, *, base: Any, baseline: Any, fix: dict[str, Any] | None = None) -> Any:
    """The planted candidate in memory: a copy of ``base`` with the faults, template and log — or with ``fix`` applied.

    A fix keeps modules in full precision (``ignore``: faults skip them, they get baseline weights),
    restores the baseline tokenizer (``tokenizer: baseline``), or changes the scheme (any of
    ``bits``/``group_size``/...: the faults and log claims of the bad scheme are dropped; pass the
    artifact of :func:`recipe` with that fix as ``base``).

    Args:
        reg: the planted regression.
        base: the dense ``LoadedModel`` of :func:`base_artifact` for the (fixed) recipe.
        baseline: the loaded baseline (``quantize`` faults round its weights).
        fix: the fix to apply, None for the regression itself.
    """
    from kit.debug.faults import apply_faults, editable, restore_modules
    from kit.models import LoadedModel

    fix = fix or {}
    ignore = tuple(fix.get("ignore") or ())
    scheme_fixed = any(k in fix for k in _SCHEME_KEYS)
    model = editable(copy.deepcopy(base.model))
    if not scheme_fixed:
        apply_faults(model, faults=reg.faults, ignore=ignore, baseline=baseline.model)
    if ignore:
        restore_modules(model, baseline=baseline.model, names=ignore)
    tokenizer = copy.deepcopy(base.tokenizer)
    if reg.chat_template is not None and fix.get("tokenizer") != "baseline":
        tokenizer.chat_template = reg.chat_template
    config = copy.deepcopy(base.quantization or {})
    if not scheme_fixed:
        config.update(copy.deepcopy(reg.log))
    config["planted"] = {"name": reg.name, "title": reg.title, "fix": fix or None}
    if ignore:
        config["ignore"] = sorted(set(config.get("ignore") or []) | set(ignore))
    return LoadedModel(model=model, tokenizer=tokenizer, ref=f"planted:{reg.name}" + ("+fix" if fix else ""),
                       path=None, sha256=None, device=base.device, quantization=config)


def fixed_candidate(reg: Regression, *, fix: dict[str, Any], base: Any, baseline: Any,
                    progress: bool = False) -> Any:
    """The planted candidate with ``fix`` applied the kit's way, whatever its kind (:data:`kit.debug.fix.FIX_KINDS`).

    An ignore list or the baseline's tokenizer changes the planted artifact itself (``base``); a
    scheme, calibration or sample-count fix is a new ``kit quantize`` run of the fixed recipe
    (:func:`base_artifact`: built once, cached), from which the planted faults are gone.

    Args:
        reg: the planted regression.
        fix: from :func:`kit.debug.fix.make_fix` (or the documented ``answer.fix``).
        base: the dense ``LoadedModel`` of the regression's own recipe.
        baseline: the loaded baseline.
        progress: progress bars while quantizing.
    """
    if recipe(reg, fix=fix) != recipe(reg):
        base = load_candidate(base_artifact(recipe(reg, fix=fix), progress=progress), device=base.device)
    return build_candidate(reg, base=base, baseline=baseline, fix=fix)


def check_planted_out(out: Path, *, overwrite: bool) -> None:
    """Refuse ``out`` unless it is new, or ``overwrite`` and it is a planted regression the kit wrote, nothing added.

    A quantized artifact, a baseline, any folder the kit did not write or one holding a file the
    kit did not write is never replaced by a planted regression.

    Args:
        out: the folder :func:`plant` would write.
        overwrite: ``--overwrite`` was given.
    """
    from kit.io import check_replaceable
    from kit.model_files import QUANT_FILE

    if not (out.exists() or out.is_symlink()):
        return
    if not overwrite:
        raise KitError(f"{out} already exists; choose another --out or pass --overwrite")
    check_replaceable(out, marker=QUANT_FILE)
    try:
        planted = json.loads((out / QUANT_FILE).read_text(encoding="utf-8")).get("planted")
    except (OSError, ValueError, AttributeError):
        planted = None
    if not planted:
        raise KitError(f"{out} is a kit artifact, not a planted regression; --overwrite on `kit regressions plant` "
                       "replaces only a planted regression's folder: choose another --out")


def plant(name: str, *, out: str | Path, overwrite: bool = False, progress: bool = False) -> Path:
    """Write a planted regression as an artifact folder (dense weights, tokenizer, configuration log).

    Args:
        name: the planted regression.
        out: the folder to create.
        overwrite: replace an existing folder.
        progress: progress bars.
    """
    from kit.model_files import QUANT_FILE, manifest, weights_sha256
    from kit.models import load_model

    reg = load_regression(name)
    out = Path(out).expanduser()
    check_planted_out(out, overwrite=overwrite)  # before 40 s of loading and quantizing, not after
    baseline = load_model(reg.quantize.get("model", DEFAULT_MODEL), device="cpu")
    base = load_candidate(base_artifact(recipe(reg), progress=progress))
    cand = build_candidate(reg, base=base, baseline=baseline)
    config = cand.quantization
    config["format"] = "dense fp32 (planted regression: weights hold the dequantized values)"
    model = _dense_copy(cand.model, baseline_path=Path(str(baseline.path)))
    with atomic_dir(out, overwrite=overwrite, marker=QUANT_FILE) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        cand.tokenizer.save_pretrained(tmp)
        config["files"] = manifest(tmp)
        config["weights_sha256"] = weights_sha256(config["files"])
        atomic_write_json(tmp / QUANT_FILE, config)
    return out
