"""Issue 27: third-party warnings, log lines and progress bars never reach the terminal of a ``kit`` command.

They are kept in the run's log (``<cache>/logs``, :func:`kit.console.quiet_cli`) and shown with
``--debug``; the kit's own lines still reach the terminal. The fast case drives the real
``main`` with a command that emits the very lines the issue lists (from the loggers and module
names that emit them); the slow cases run real CLI paths in a subprocess.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kit.cli.main import main

REPO = Path(__file__).resolve().parents[2]
NOISE = ("Failed to load CPU gemm_4bit_forward", "MatMul8bitLt: inputs will be cast", "clean_up_tokenization_spaces",
         "Decompressing model", "Converting and de-quantizing GGUF tensors", "a warning from a library",
         "Failed to load /")
#: Printed by the real libraries on the real paths only (llm-compressor's import-time device line).
REAL_NOISE = (*NOISE, "No accelerator available")

_EMIT = '''
import logging, sys, warnings
from tqdm.auto import tqdm
from transformers.utils import logging as hf_logging

def third_party():
    logging.getLogger("bitsandbytes.backends.cpu.ops").warning(
        "Failed to load CPU gemm_4bit_forward from kernels-community: No module named 'kernels'")
    logging.getLogger("bitsandbytes.autograd._functions").warning(
        "MatMul8bitLt: inputs will be cast from torch.float32 to float16 during quantization")
    hf_logging.get_logger("transformers.tokenization_utils_base").warning(
        "clean_up_tokenization_spaces was not set. It will be set to True by default.")
    logging.getLogger("torchao").warning("Failed to load /site-packages/torchao/_C_mxfp8.so")
    warnings.warn("a warning from a library", UserWarning)
    for _ in tqdm(range(3), desc="Decompressing model"):
        pass
    sys.stderr.write("Converting and de-quantizing GGUF tensors...: 100%\\n")
'''
_KIT = '''
import sys
from tqdm.auto import tqdm

def own():
    print("kit's own warning line", file=sys.stderr)
    for _ in tqdm(range(2), desc="kit's own bar"):
        pass
'''


def _module(name: str, source: str) -> dict:
    scope = {"__name__": name}
    exec(compile(source, f"<{name}>", "exec"), scope)  # functions whose frames carry that module name
    return scope


@pytest.fixture
def noisy_command(monkeypatch, tmp_path):
    """``kit sets`` replaced by a command that emits the issue's third-party lines and two of the kit's own."""
    lib, kit = _module("compressed_tensors.fake", _EMIT), _module("kit.fake", _KIT)

    def cmd(args):
        lib["third_party"]()
        kit["own"]()
        print("[sets] done")
        return 0

    monkeypatch.setattr("kit.cli.main.cmd_sets", cmd)
    monkeypatch.delenv("KIT_LOGS", raising=False)  # the default place: the cache's logs/
    monkeypatch.setenv("KIT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "logs"


def test_library_noise_goes_to_the_run_log_not_the_terminal(noisy_command, capfd):
    assert main(["sets"]) == 0
    out, err = capfd.readouterr()
    assert "[sets] done" in out and "kit's own warning line" in err and "kit's own bar" in err
    assert not [n for n in NOISE if n in out + err], out + err
    logs = list(noisy_command.glob("*-sets-*.log"))
    assert len(logs) == 1
    kept = logs[0].read_text(encoding="utf-8")
    assert all(n in kept for n in NOISE), kept
    assert "kit's own" not in kept


def test_debug_shows_library_noise_and_still_keeps_the_log(noisy_command, capfd):
    assert main(["sets", "--debug"]) == 0
    _, err = capfd.readouterr()
    assert all(n in err for n in NOISE[:4]), err
    assert all(n in next(noisy_command.glob("*.log")).read_text(encoding="utf-8") for n in NOISE)


def test_a_quiet_run_leaves_no_log(monkeypatch, tmp_path, capfd):
    monkeypatch.setenv("KIT_LOGS", str(tmp_path / "logs"))
    assert main(["sets"]) == 0
    assert not (tmp_path / "logs").exists()


def _kit(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kit", *argv], capture_output=True, text=True, cwd=REPO, env=env,
                          timeout=900)


@pytest.mark.slow
def test_real_paths_print_no_library_noise(tmp_path):
    """``kit baseline --force`` (GGUF bars), ``kit quantize`` (bnb lines; llm-compressor's import-time log) and ``kit eval``."""
    env = os.environ | {"KIT_CACHE": str(tmp_path / "cache"), "KIT_LOGS": str(tmp_path / "cache" / "logs"),
                        "PYTHONPATH": str(REPO), "KIT_PROGRESS": "0"}
    art = tmp_path / "int8"
    runs = [_kit("baseline", "--force", env=env),
            _kit("quantize", "--model", "smollm2-135m", "--method", "bnb-int8", "--out", str(art), env=env),
            _kit("quantize", "--model", "smollm2-135m", "--method", "rtn", "--out", str(tmp_path / "rtn"), env=env),
            _kit("eval", "--model", str(art), "--eval", "stdlib-docs", "--max-tokens", "64", "--no-speed",
                 "--no-baseline", env=env)]
    for done in runs:
        assert done.returncode == 0, done.stderr
        assert not [n for n in REAL_NOISE if n in done.stdout + done.stderr], done.stdout + done.stderr
    assert runs[3].stdout.startswith("[eval]")
    kept = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "cache" / "logs").glob("*.log"))
    assert "Converting and de-quantizing GGUF tensors" in kept


def test_a_stream_kept_by_a_library_writes_to_the_terminal_after_the_run(tmp_path, capfd):
    import logging
    import sys

    from kit.console import quiet_libraries

    with quiet_libraries(tmp_path / "run.log"):
        kept = sys.stderr  # e.g. a handler or a bar made during the run holds this stream
        handler = logging.StreamHandler(kept)
    handler.handle(logging.makeLogRecord({"msg": "after the run", "levelno": logging.WARNING}))
    kept.flush()
    assert "after the run" in capfd.readouterr().err and not (tmp_path / "run.log").exists()
