"""CLI verb ``kit baseline``: prepare the embedded model, add a team's own, list, show and verify the store."""

from __future__ import annotations

import argparse
from typing import Any

from kit.errors import KitError
from kit.models import DEFAULT_MODEL

__all__ = ["register"]

_USAGE = ("use `kit baseline [NAME]` (prepare/verify), `kit baseline add NAME --from FOLDER|HUB_ID`, "
          "`kit baseline list`, `kit baseline show NAME` or `kit baseline verify NAME`")


def _verify(name: str) -> tuple[Any, str | None, dict[str, Any]]:
    """Prepare (an embedded alias) or find the entry, then check every file; (folder, weights sha256, log)."""
    from kit.baselines import read_entry, store_path
    from kit.model_files import verify_folder
    from kit.models import ALIASES, prepare_baseline

    if name in ALIASES:
        path = prepare_baseline(name)
    else:
        read_entry(name)  # an unknown name: one line naming `kit baseline add`
        path = store_path(name)
    sha, info, _ = verify_folder(path)  # a changed, missing or added file → error naming the fix
    return path, sha, info or {}


def _source_text(info: dict[str, Any]) -> str:
    src = info.get("source") or {}
    if "hub" in src:
        return f"hub {src['hub']} @ {src.get('revision')}"
    if "path" in src:
        return f"{info.get('mode', 'copied')} from {src['path']}"
    return f"embedded ({src.get('distribution', '?')}, source sha256 {str(src.get('sha256', '?'))[:12]})"


def _list() -> None:
    from kit.baselines import read_entry, store_names
    from kit.eval.tables import format_table
    from kit.models import ALIASES

    rows = []
    for name in sorted({*ALIASES, *store_names()}):
        info = read_entry(name) if name in store_names() else {}
        rows.append({"name": name, "kind": "embedded" if name in ALIASES else info.get("mode", "?"),
                     "dtype": info.get("dtype") or ("float32" if name in ALIASES else "?"),
                     "files": len(info.get("files") or {}) or None,
                     "added_by": info.get("added_by"), "source": _source_text(info) if info else "not prepared yet"})
    print(format_table(rows))


def cmd_baseline(args: argparse.Namespace) -> int:
    """Prepare/verify a baseline, or add, list, show and verify the team's baselines."""
    from kit.baselines import VERBS, add_baseline
    from kit.models import ALIASES, prepare_baseline

    words = list(args.words)
    verb = words.pop(0) if words and words[0] in VERBS else None
    if verb == "list":
        if words:
            raise KitError(f"`kit baseline list` takes no name; {_USAGE}")
        _list()
        return 0
    if len(words) > 1 or (verb in ("add", "show") and not words):
        raise KitError(f"expected one baseline name; {_USAGE}")
    name = words[0] if words else DEFAULT_MODEL
    if verb != "add" and (args.source or args.pin or args.copy or args.trust_remote_code):
        raise KitError("--from, --pin, --copy and --trust-remote-code belong to `kit baseline add NAME --from ...`")
    if verb == "add":
        if not args.source:
            raise KitError(f"`kit baseline add {name}` needs --from FOLDER or --from HUB_ID")
        if args.pin and args.copy:
            raise KitError("pass --pin or --copy, not both")
        add_baseline(name=name, source=args.source, pin=True if args.pin else False if args.copy else None,
                     force=args.force, trust_remote_code=args.trust_remote_code, revision=args.revision,
                     reserved=tuple(ALIASES))
    elif name in ALIASES and args.force:
        prepare_baseline(name, force=True)
    elif args.force:
        raise KitError(f"--force rebuilds an embedded model or replaces an added one: "
                       f"`kit baseline add {name} --from SOURCE --force`")
    path, sha, info = _verify(name)
    print(f"baseline {name}: {path} (verified {len(info.get('files') or {})} files)\n  weights sha256 {sha}")
    src = info.get("source")
    if name in ALIASES:
        print(f"  source  sha256 {src.get('sha256') if isinstance(src, dict) else '?'}")
    else:
        print(f"  source  {_source_text(info)}; dtype {info.get('dtype')}; added by {info.get('added_by')} "
              f"at {info.get('added_at')}")
    if verb == "show" and name not in ALIASES:
        print(f"  model   {info.get('description')}; licence {info.get('license') or 'not stated'}"
              + ("; custom code trusted" if info.get("trust_remote_code") else ""))
        if info.get("left_out"):
            print(f"  left out (not safetensors): {', '.join(info['left_out'][:5])}")
        if info.get("card"):
            print("  card:\n    " + "\n    ".join(str(info["card"]).strip().splitlines()[:20]))
    return 0


def register(sub: Any) -> None:
    """Add ``baseline`` to the ``kit`` subcommands.

    Args:
        sub: the ``add_subparsers`` object of the main parser.
    """
    p = sub.add_parser("baseline", help="the baseline store: prepare the embedded model, add your own, list, verify")
    p.add_argument("words", nargs="*", metavar="[add|list|show|verify] NAME",
                   help=f"a baseline name (default {DEFAULT_MODEL}), after an optional verb")
    p.add_argument("--from", dest="source", default=None, metavar="FOLDER|HUB_ID",
                   help="add: the model folder or hub id (online only)")
    p.add_argument("--revision", default=None, help="add: the hub revision (default: main)")
    p.add_argument("--pin", action="store_true", help="add: link the source's files in place (hashed, not copied)")
    p.add_argument("--copy", action="store_true", help="add: copy even a large model (default: pin above 4 GiB)")
    p.add_argument("--trust-remote-code", action="store_true",
                   help="add: accept a model that ships its own modelling code (auto_map, *.py)")
    p.add_argument("--force", action="store_true",
                   help="rebuild the embedded model, or replace an added one (the old stays until the new verifies)")
    p.set_defaults(func=cmd_baseline)
