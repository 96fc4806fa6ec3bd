"""The baseline store: every full-precision reference model a team serves, kept and hashed under a name.

``kit baseline add NAME --from FOLDER|HUB_ID`` puts a model into ``<cache>/baselines/NAME``:
copied, or pinned in place (a folder of links to the source's files, hashed, never copied)
for large models. Either way the entry's ``kit-baseline.json`` records the manifest (every
file that defines the model), the source (a path, or a hub id and revision), the dtype, the
licence and model card when present, and who added it; :func:`kit.model_files.verify_folder`
checks every file against it before any weights load. The embedded alias (``smollm2-135m``,
prepared by :func:`kit.embedded.prepare_baseline`) is one entry of the same store.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import shutil
import struct
from collections import Counter
from pathlib import Path
from typing import Any

from kit.clock import utc_now
from kit.environment import hub_offline
from kit.errors import KitError
from kit.io import atomic_dir, atomic_write_json, cache_dir, file_manifest
from kit.model_files import BASELINE_FILE, BASELINE_KIND, QUANT_FILE, manifest, read_log, weights_sha256

__all__ = ["PIN_ABOVE_BYTES", "VERBS", "add_baseline", "check_name", "read_entry", "store_dir", "store_names",
           "store_path"]

#: Models larger than this are pinned in place (hashed, not copied) unless ``--copy`` is given.
PIN_ABOVE_BYTES = 4 * 1024**3
#: ``kit baseline`` verbs: never a baseline's name.
VERBS = frozenset({"add", "list", "show", "verify"})
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
#: Weights in formats the kit never loads (pickle, other frameworks): left out of a copy and its manifest.
_LEFT_OUT = (".bin", ".pt", ".pth", ".ckpt", ".h5", ".msgpack", ".onnx", ".gguf", ".ot")
_CARD_CHARS = 8000


def store_dir() -> Path:
    """The store's folder: ``<cache>/baselines``."""
    return cache_dir() / "baselines"


def store_path(name: str) -> Path | None:
    """The folder of the store entry ``name`` (a model folder), or None when the store has no such entry.

    Args:
        name: a baseline name.
    """
    if not _NAME.match(name):
        return None
    path = store_dir() / name
    return path if (path / BASELINE_FILE).is_file() else None


def store_names() -> list[str]:
    """Names of the store's entries (prepared or added), sorted."""
    root = store_dir()
    return sorted(p.name for p in root.iterdir() if (p / BASELINE_FILE).is_file()) if root.is_dir() else []


def read_entry(name: str) -> dict[str, Any]:
    """The store entry's ``kit-baseline.json`` (not verified: see :func:`kit.model_files.verify_folder`).

    Args:
        name: a baseline name.
    """
    path = store_path(name)
    if path is None:
        known = ", ".join(store_names()) or "none yet"
        raise KitError(f"no baseline '{name}' in the store ({known}); add it with `kit baseline add {name} --from FOLDER`")
    return read_log(path / BASELINE_FILE, fix=f"re-add it with `kit baseline add {name} --from SOURCE --force`") or {}


def check_name(name: str, *, reserved: tuple[str, ...] = ()) -> None:
    """Refuse a name that is not a plain lowercase word, is a verb, or is reserved (an embedded alias).

    Args:
        name: the proposed baseline name.
        reserved: names the kit keeps for itself.
    """
    if not _NAME.match(name) or name in VERBS:
        raise KitError(f"baseline name '{name}' must be lowercase letters, digits, '.', '_' or '-' (not "
                       f"{', '.join(sorted(VERBS))}); e.g. `kit baseline add my-model-7b --from FOLDER`")
    if name in reserved:
        raise KitError(f"'{name}' is the embedded model's name; prepare it with `kit baseline {name}` "
                       "or add yours under another name")


def _fetch_hub(hub_id: str, revision: str | None) -> tuple[Path, dict[str, Any]]:
    """Download a hub model's files (online only); its folder and the source record (id + resolved revision)."""
    if hub_offline():
        raise KitError(f"'{hub_id}' is not a local folder and the hub is offline (HF_HUB_OFFLINE); download it where "
                       "the hub is reachable and pass --from FOLDER")
    from huggingface_hub import snapshot_download

    try:
        folder = Path(snapshot_download(hub_id, revision=revision, allow_patterns=["*.json", "*.safetensors", "*.txt",
                                                                                  "*.model", "*.md", "LICENSE*", "*.py",
                                                                                  "*.jinja", "*.tiktoken"]))
    except Exception as exc:  # noqa: BLE001 — any hub failure (network, auth, missing repo) is the user's to fix
        raise KitError(f"could not download '{hub_id}' ({type(exc).__name__}: {str(exc).splitlines()[0][:120]}); "
                       "check the id, your access and network, or pass --from FOLDER") from None
    return folder, {"hub": hub_id, "revision": folder.name}


def _source(source: str, revision: str | None) -> tuple[Path, dict[str, Any]]:
    path = Path(source).expanduser()
    if path.exists():
        if not path.is_dir() or not (path / "config.json").is_file():
            raise KitError(f"{source} is not a model folder (no config.json); pass a folder saved by save_pretrained")
        return path.resolve(), {"path": str(path.resolve())}
    if source.count("/") == 1 and not source.startswith((".", "/", "~")):
        return _fetch_hub(source, revision)
    raise KitError(f"--from {source}: no such folder, and not a hub id (org/name)")


def _remote_code(path: Path, config: dict[str, Any]) -> list[str]:
    found = [f"auto_map in config.json ({', '.join(sorted(config['auto_map']))})"] if config.get("auto_map") else []
    return found + sorted(p.name for p in path.glob("*.py"))


def _dtype(path: Path, files: list[str]) -> str:
    """The most common tensor dtype in the safetensors headers (read without loading any weights)."""
    counts: Counter[str] = Counter()
    for name in files:
        with open(path / name, "rb") as f:
            size = struct.unpack("<Q", f.read(8))[0]
            header = json.loads(f.read(size))
        counts.update(v["dtype"] for k, v in header.items() if k != "__metadata__")
    names = {"F32": "float32", "BF16": "bfloat16", "F16": "float16"}
    return names.get(counts.most_common(1)[0][0], counts.most_common(1)[0][0].lower()) if counts else "unknown"


def _card(path: Path) -> tuple[str | None, str | None]:
    """(licence, model card text) from README.md's front matter and a LICENSE file, when present."""
    readme = path / "README.md"
    card = readme.read_text(encoding="utf-8", errors="replace")[:_CARD_CHARS] if readme.is_file() else None
    licence = None
    match = re.search(r"^license:\s*(.+)$", card or "", flags=re.MULTILINE)
    if match:
        licence = match.group(1).strip().strip("'\"")
    for f in sorted(path.glob("LICEN[CS]E*")):
        first = next((line.strip() for line in f.read_text(encoding="utf-8", errors="replace").splitlines()
                      if line.strip()), "")
        licence = licence or first[:200] or f.name
    return licence, card


def _who(by: str | None) -> str:
    try:
        return by or os.environ.get("USER") or getpass.getuser()
    except (OSError, KeyError, ImportError):  # no login name (containers)
        return "unknown"


def add_baseline(*, name: str, source: str, pin: bool | None = None, force: bool = False,
                 trust_remote_code: bool = False, revision: str | None = None, by: str | None = None,
                 reserved: tuple[str, ...] = ()) -> Path:
    """Copy or pin a model into the store as ``name``, with its manifest and provenance; return the entry's folder.

    The new entry is written beside the store and verified (every file re-hashed against the
    source's manifest) before it replaces anything: with ``force`` the old entry stays until then.

    Args:
        name: the baseline's name (lowercase; not an embedded alias).
        source: a local model folder, or a hub id (online only).
        pin: True: link to the source's files (hashed, not copied); False: copy; None: pin above :data:`PIN_ABOVE_BYTES`.
        force: replace an existing entry of that name.
        trust_remote_code: accept a model with custom modelling code (``auto_map``, ``*.py``).
        revision: the hub revision (hub ids only; default the main branch).
        by: who adds it (default ``$USER``).
        reserved: names not available (the embedded aliases).
    """
    check_name(name, reserved=reserved)
    out = store_dir() / name
    if (out / BASELINE_FILE).is_file() and not force:
        raise KitError(f"baseline '{name}' already exists ({out}); pass --force to replace it (the old one stays "
                       "until the new one verifies) or choose another name")
    path, origin = _source(source, revision)
    if (path / QUANT_FILE).is_file():
        raise KitError(f"{path} is a quantized artifact; a baseline is the full-precision model it came from")
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KitError(f"{path / 'config.json'} is unreadable ({exc}); re-save the model with save_pretrained") from None
    code = _remote_code(path, config if isinstance(config, dict) else {})
    if code and not trust_remote_code:
        raise KitError(f"{path} ships its own modelling code ({', '.join(code[:3])}); read it, then pass "
                       "--trust-remote-code to accept it (its files are hashed with the rest)")
    files = {n: h for n, h in manifest(path).items() if not n.endswith(_LEFT_OUT)}
    weights = sorted(n for n in files if "/" not in n and n.endswith(".safetensors"))
    if not weights:
        raise KitError(f"{path} has no .safetensors weights; save the model with safe_serialization=True")
    size = sum((path / n).stat().st_size for n in files)
    pinned = size > PIN_ABOVE_BYTES if pin is None else pin
    licence, card = _card(path)
    with atomic_dir(out, overwrite=force, marker=BASELINE_FILE, kind=BASELINE_KIND) as tmp:
        for rel in files:
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if pinned:
                os.symlink(path / rel, target)
            else:
                shutil.copy2(path / rel, target)
        copied = file_manifest(tmp)
        if copied != files:
            bad = sorted(n for n in files if copied.get(n) != files[n])
            raise KitError(f"the new baseline's files do not match the source ({', '.join(bad[:3])}); the source "
                           "changed while it was read: run the command again")
        atomic_write_json(tmp / BASELINE_FILE, {
            "alias": name,
            "description": f"{'/'.join(config.get('architectures') or ['?'])} ({config.get('model_type', '?')})",
            "source": origin,
            "mode": "pinned" if pinned else "copied",
            "weights_sha256": weights_sha256(files),
            "files": files,
            "left_out": sorted(n for n in manifest(path) if n not in files),
            "dtype": _dtype(path, weights),
            "bytes": size,
            "license": licence,
            "card": card,
            "trust_remote_code": bool(code),
            "added_by": _who(by),
            "added_at": utc_now(),
        })
    return out
