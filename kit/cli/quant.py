"""CLI verbs ``kit quantize`` and ``kit compare`` (registered into :mod:`kit.cli.main`)."""

from __future__ import annotations

import argparse
from typing import Any

from kit.errors import KitError
from kit.models import DEFAULT_MODEL

__all__ = ["register"]

_MIB = 1024 * 1024


def _add_quant_args(p: argparse.ArgumentParser) -> None:
    from kit.quant.methods import METHOD_TABLE

    by_default: dict[int, list[str]] = {}
    for m in METHOD_TABLE:
        by_default.setdefault(m.default_bits, []).append(m.name)
    defaults = "; ".join(f"{b} for {', '.join(names)}" for b, names in by_default.items())
    p.add_argument("--bits", type=int, default=None, help=f"weight bits (default: {defaults})")
    p.add_argument("--group-size", type=int, default=None,
                   help="gptq/awq/rtn: weights per scale (default: largest that divides every width)")
    from kit.cli._args import add_calibration_args

    add_calibration_args(p)
    p.add_argument("--overwrite", action="store_true", help="replace an existing output folder")


def cmd_quantize(args: argparse.Namespace) -> int:
    """Quantize one model with one method and save the artifact + config log."""
    from kit.cli._args import calibration_from_args
    from kit.console import stage
    from kit.models import QUANT_FILE
    from kit.quant.quantize import quantize
    from kit.quant.spec import QuantSpec

    ignore = tuple(x.strip() for x in (args.ignore or "").split(",") if x.strip())
    spec = QuantSpec(method=args.method, bits=args.bits, group_size=args.group_size,
                     calibration=calibration_from_args(args), ignore=ignore)
    r = quantize(model=args.model, spec=spec, out=args.out, device=args.device, overwrite=args.overwrite)
    c = r.config
    stage("baseline", f"{c['baseline']['ref']} verified (weights sha256 {c['baseline']['sha256'][:12]})")
    cal = c["calibration"]
    stage("calibration", f"{cal['samples']} × {cal['seq_len']} tokens from {cal['name']} (seed {cal['seed']})"
          if cal else "none (data-free method)")
    shape = f"w{c['bits']}" + (f"g{c['group_size']}" if c["group_size"] else "")
    stage("quantize", f"{c['method']} {shape}: {c['quantized_modules']} modules in {c['quantize_seconds']:.1f} s, "
          f"peak RSS {c['peak_memory']['peak_rss_bytes'] / _MIB:.0f} MiB"
          + (f"; shims: {', '.join(c['shims'])}" if c["shims"] else ""))
    stage("save", f"{r.path} ({c['format']}, weights {c['weight_bytes'] / _MIB:.1f} MiB, sha256 {c['weights_sha256'][:12]})")
    print(f"config log: {r.path / QUANT_FILE}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Quantize with several methods and compare them with the baseline on the same sets."""
    from kit.cli._args import calibration_from_args, protocol_from_args
    from kit.io import atomic_write_json
    from kit.quant.compare import compare, format_compare

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    if not methods:
        raise KitError("--methods is empty; pass e.g. --methods bnb-int8,gptq")
    entries = compare(model=args.model, eval_sets=args.eval, methods=methods, out_dir=args.out_dir,
                      protocol=protocol_from_args(args), bits=args.bits, group_size=args.group_size,
                      calibration=calibration_from_args(args), device=args.device, measure_speed=not args.no_speed,
                      overwrite=args.overwrite)
    print(format_compare(entries))
    if args.json:
        atomic_write_json(args.json, entries)
        print(f"wrote {args.json}")
    return 0


def register(sub: Any) -> None:
    """Add ``quantize`` and ``compare`` to the ``kit`` subcommands.

    Args:
        sub: the ``add_subparsers`` object of the main parser.
    """
    from kit.cli._args import add_protocol_args
    from kit.quant.methods import COMPARE_DEFAULT as DEFAULT_METHODS
    from kit.quant.methods import METHOD_TABLE

    p = sub.add_parser("quantize", help="quantize a model and save it with its configuration log")
    p.add_argument("--model", required=True,
                   help=f"the full-precision baseline: a baseline name ({DEFAULT_MODEL} or `kit baseline list`) or folder")
    p.add_argument("--method", required=True, help="one of: " + ", ".join(
        f"{m.name} ({'/'.join(map(str, m.bits))}-bit)" for m in METHOD_TABLE))
    p.add_argument("--out", required=True, help="artifact folder to create")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available)")
    _add_quant_args(p)
    p.add_argument("--ignore", default=None, help="gptq/awq/rtn: comma-separated modules kept in full precision "
                   "besides lm_head (names, block prefixes such as model.layers.3, or re:<regex>); "
                   "`kit debug --bisect` prints one")
    p.set_defaults(func=cmd_quantize)

    p = sub.add_parser("compare", help="quantize with several methods and compare them with the baseline")
    p.add_argument("--model", required=True, help="the full-precision baseline: a baseline name (`kit baseline list`) or folder")
    p.add_argument("--methods", default=",".join(DEFAULT_METHODS), help=f"comma-separated (default {','.join(DEFAULT_METHODS)})")
    p.add_argument("--eval", required=True, nargs="+", action="extend", help="set names or .jsonl/.txt paths")
    p.add_argument("--out-dir", default=None, help="keep the artifacts here (<dir>/<method>); temp folder otherwise")
    p.add_argument("--json", default=None, help="write the comparison (a JSON list) here")
    add_protocol_args(p)
    _add_quant_args(p)
    p.set_defaults(func=cmd_compare)
