"""CLI verbs for speed-only measurements: ``kit speed measure|import|join`` (registered into ``kit.cli.main``)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from kit.engines import DEFAULT_ENGINE, ENGINES

__all__ = ["register"]


def _line(speed: dict[str, Any]) -> str:
    from kit.engines import engine_of

    lat, thr = speed["latency"], speed["throughput"]
    return (f"{speed['model'].get('ref')} ({speed.get('form', '?')}) on {engine_of(speed['model']).label()}, "
            f"{speed['hardware']['label']}: decode {thr['decode_tokens_per_s']:.1f} tok/s "
            f"(p50 {lat['decode_ms_p50']:.1f} ms/token), prefill {lat['prefill_ms']:.1f} ms")


def cmd_measure(args: argparse.Namespace) -> int:
    """Measure one model's speed on one engine here and write a ``kit.speed/1`` file."""
    from kit.console import stage
    from kit.govern.speed import measure_speed
    from kit.io import atomic_write_json, check_writable

    check_writable(args.out_file, what="--out")  # before the model loads
    speed = measure_speed(model=args.model, engine=args.engine, dtype=args.dtype, device=args.device,
                          hardware=args.hardware, prompt_tokens=args.prompt_tokens, new_tokens=args.new_tokens,
                          repeats=args.repeats, warmup=args.warmup)
    if speed.get("note"):
        stage("speed", speed["note"])
    atomic_write_json(args.out_file, speed)
    print(_line(speed))
    print(f"wrote {args.out_file}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """Check a speed file and store it against the registry entries of its artifact."""
    from kit.govern.registry import Registry
    from kit.govern.speed import import_speed, read_speed_file

    speed = read_speed_file(args.file)  # before the registry opens
    with Registry.open(args.registry or None) as reg:
        done = import_speed(registry=reg, speed=speed, source=str(args.file))
    print(_line(speed))
    print(f"imported as {done['id']}: joined to entr{'y' if len(done['entries']) == 1 else 'ies'} "
          f"{', '.join(done['entries'])} ({' and '.join(done['roles'])}); the pilot report shows it as measured on "
          f"{done['hardware']}")
    return 0


def cmd_join(args: argparse.Namespace) -> int:
    """Print (or write) an accuracy record joined to a speed record of the same artifact."""
    from kit.eval.record_files import read_records
    from kit.govern.speed import join_speed, read_speed_file
    from kit.io import atomic_write_json

    speed = read_speed_file(args.file)
    joined = [join_speed(speed=speed, record=r) for r in read_records([args.record])]
    for j in joined:
        print(f"accuracy: {j['accuracy']['engine']} on {j['accuracy']['hardware']}; speed: {j['speed']['engine']} on "
              f"{j['speed']['hardware']}")
    if args.json:
        atomic_write_json(args.json, joined)
        print(f"wrote {args.json}")
    else:
        print(json.dumps([{k: v for k, v in j.items() if k != "accuracy"} for j in joined], indent=1, default=str)[:2000])
    return 0


def register(sub: Any) -> None:
    """Add ``speed`` (measure, import, join) to the ``kit`` subparsers.

    Args:
        sub: the object returned by ``ArgumentParser.add_subparsers``.
    """
    p = sub.add_parser("speed", help="speed-only measurements: measure here, import one made elsewhere, join by hash")
    verbs = p.add_subparsers(dest="speed_verb", required=True)

    m = verbs.add_parser("measure", help="measure a model's decode/prefill speed and memory on one engine")
    m.add_argument("--model", required=True, help="alias or folder of the artifact")
    m.add_argument("--engine", default=DEFAULT_ENGINE, choices=list(ENGINES), help="engine to run it on")
    m.add_argument("--dtype", default=None, choices=["float32", "bfloat16", "float16"],
                   help="an unquantized model's dtype (bfloat16: the baseline's bf16 form)")
    m.add_argument("--device", default=None)
    m.add_argument("--hardware", default=None, help="label for the machine (default: its GPU or CPU name)")
    m.add_argument("--prompt-tokens", type=int, default=128)
    m.add_argument("--new-tokens", type=int, default=32)
    m.add_argument("--repeats", type=int, default=5)
    m.add_argument("--warmup", type=int, default=1)
    m.add_argument("--out", dest="out_file", required=True, help="the kit.speed/1 JSON file to write")
    m.set_defaults(func=cmd_measure)

    i = verbs.add_parser("import", help="store a speed file against the registry entries of its artifact")
    i.add_argument("file", help="a kit.speed/1 JSON file (from `kit speed measure`)")
    i.add_argument("--registry", default=None, help="registry file or postgresql:// URL (default: $KIT_REGISTRY...)")
    i.set_defaults(func=cmd_import)

    j = verbs.add_parser("join", help="join a speed file to an accuracy record of the same artifact")
    j.add_argument("file", help="a kit.speed/1 JSON file")
    j.add_argument("--record", required=True, help="a harness record JSON (kit eval --json)")
    j.add_argument("--json", default=None, help="write the joined records here")
    j.set_defaults(func=cmd_join)
