"""A model folder's kit logs and file manifest: read the logs safely, verify the files against them.

A baseline's ``kit-baseline.json`` and an artifact's ``kit-quantization.json`` record
``files``: ``{file name: sha256}`` of every file in the folder that defines the model
(weights, ``config.json``, ``generation_config.json``, tokenizer files, chat template),
everything but the log itself and hidden files. :func:`verify_folder` re-hashes the folder
and refuses a changed, missing or added file before any weights are loaded.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from kit.errors import KitError
from kit.io import file_manifest

__all__ = ["ARTIFACT_KIND", "BASELINE_FILE", "BASELINE_KIND", "QUANT_FILE", "config_max_positions", "manifest",
           "read_log", "verify_folder",
           "weights_sha256"]

BASELINE_FILE = "kit-baseline.json"
QUANT_FILE = "kit-quantization.json"
BASELINE_KIND, ARTIFACT_KIND = "baseline", "quantized model"  # their folders' kinds (kit.io.check_replaceable)
_LOGS = (BASELINE_FILE, QUANT_FILE)


def manifest(folder: str | Path) -> dict[str, str]:
    """``{file: sha256}`` of the files that define the model in ``folder`` (the kit logs left out).

    Args:
        folder: a baseline, artifact or Hugging Face model folder.
    """
    return file_manifest(folder, exclude=_LOGS)


def weights_sha256(files: dict[str, str]) -> str | None:
    """The weights hash (as :func:`kit.io.sha256_dir` computes it) from a manifest, or None without weights.

    Args:
        files: a manifest from :func:`manifest`.
    """
    names = sorted(n for n in files if "/" not in n and n.endswith(".safetensors"))
    if len(names) <= 1:
        return files[names[0]] if names else None
    h = hashlib.sha256()
    for name in names:
        h.update(name.encode() + b"\0" + files[name].encode() + b"\n")
    return h.hexdigest()


def _read_json(path: Path, *, fix: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KitError(f"cannot read {path} ({exc.strerror or exc}); {fix}") from None
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        why = "not UTF-8" if isinstance(exc, UnicodeDecodeError) else "not valid JSON"
        raise KitError(f"{path} is damaged ({why}); {fix}") from None


def read_log(path: Path, *, fix: str) -> dict[str, Any] | None:
    """A kit log as a dict (None when absent), checked for the fields the kit reads.

    Args:
        path: ``.../kit-baseline.json`` or ``.../kit-quantization.json``.
        fix: what the user should do when it is damaged, e.g. "rebuild it with `kit baseline X --force`".
    """
    if not path.is_file():
        return None
    data = _read_json(path, fix=fix)
    if not isinstance(data, dict):
        raise KitError(f"{path} is not a kit log (expected a JSON object); {fix}")
    files = data.get("files")
    if files is not None and not (isinstance(files, dict) and all(isinstance(v, str) for v in files.values())):
        raise KitError(f"{path}: 'files' must map file names to sha256 strings; {fix}")
    if not isinstance(data.get("weights_sha256"), (str, type(None))):
        raise KitError(f"{path}: 'weights_sha256' must be a string; {fix}")
    if path.name == QUANT_FILE:
        base = data.get("baseline")
        if not isinstance(data.get("method"), str) or not (isinstance(base, dict) and isinstance(base.get("ref"), str)):
            raise KitError(f"{path} lacks 'method' or 'baseline.ref'; {fix}")
    return data


def _differences(recorded: dict[str, str], current: dict[str, str]) -> list[str]:
    changed = [f"{n} changed" for n in sorted(recorded) if n in current and current[n] != recorded[n]]
    missing = [f"{n} missing" for n in sorted(set(recorded) - set(current))]
    added = [f"{n} added" for n in sorted(set(current) - set(recorded))]
    return changed + missing + added


def verify_folder(path: Path) -> tuple[str | None, dict[str, Any] | None, dict[str, Any] | None]:
    """Check a model folder's files against its kit log; return (weights sha256, baseline log, artifact log).

    A folder without a kit log (a plain Hugging Face checkpoint) is only hashed. A baseline
    log without a manifest (written by an older kit) is refused with the rebuild command.

    Args:
        path: the model folder.
    """
    baseline_log = path / BASELINE_FILE
    alias, raw = path.name, None  # the cache names a baseline's folder after its alias
    if baseline_log.is_file():
        raw = _read_json(baseline_log, fix=f"rebuild it with `kit baseline {alias} --force`")
        alias = str(raw.get("alias", alias)) if isinstance(raw, dict) else alias
    source = raw.get("source") if isinstance(raw, dict) else None
    origin = (source.get("path") or source.get("hub")) if isinstance(source, dict) else None
    base_fix = (f"if the change was intended, re-add it with `kit baseline add {alias} --from {origin} --force`"
                if origin else f"rebuild it with `kit baseline {alias} --force`")
    quant_fix = "re-create it with `kit quantize ... --overwrite` (or delete the folder)"
    baseline = read_log(baseline_log, fix=base_fix)
    quant = read_log(path / QUANT_FILE, fix=quant_fix)
    current = manifest(path)
    sha = weights_sha256(current)
    for log, what, fix in ((baseline, "baseline", base_fix), (quant, "artifact", quant_fix)):
        if log is None:
            continue
        recorded = log.get("files")
        if recorded is None and log is baseline:
            raise KitError(f"baseline {path} was prepared by an older kit: its {BASELINE_FILE} has no file manifest, "
                           f"so its config and tokenizer cannot be verified; {fix}")
        problems = _differences(recorded, current) if recorded is not None else []
        if log.get("weights_sha256") not in (None, sha) and not problems:
            problems = ["weights differ from weights_sha256"]
        if problems and all(p.endswith(" added") for p in problems):
            fix = "move the added file(s) out of the folder: the kit did not write them"
        if problems:
            raise KitError(f"{what} {path} does not match its recorded hashes ({'; '.join(problems[:3])}); {fix}")
    return sha, baseline, quant


def config_max_positions(path: Path) -> int | None:
    """The model's longest context (``max_position_embeddings`` in ``config.json``), or None when unknown.

    Args:
        path: the model folder.
    """
    config = _read_json(path / "config.json", fix="the model folder's config.json is damaged; re-create the folder")
    if not isinstance(config, dict):
        return None
    for section in (config, config.get("text_config") or {}):
        value = section.get("max_position_embeddings") if isinstance(section, dict) else None
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None
