"""Panel runs that survive the browser, cancel cleanly and keep library noise in a log (issue 15)."""

import json
import logging
import sys
import threading
import time
import warnings

import pytest
from tqdm.auto import tqdm

from kit.console import quiet_libraries, stage
from kit.errors import KitError
from kit.teach import panel_runs
from kit.teach.panel_runs import RESULT_FILE, STATUS_FILE, latest_run, read_result, read_status, start_run
from kit.teach.panel_view import status_html


def test_a_finished_run_leaves_status_result_and_log_in_its_folder(tmp_path):
    def work(run_dir):
        stage("baseline", "scored")
        logging.getLogger("bitsandbytes").warning("MatMul8bitLt: inputs will be cast")
        warnings.warn("clean_up_tokenization_spaces was not set", stacklevel=2)
        return {"answer": 42, "out_dir": str(run_dir)}

    run = start_run(work=work, label="m-uc", selection={"method": "bnb-int8"}, runs_root=tmp_path, background=False)
    status = read_status(run.dir)
    assert status["state"] == "done" and status["stage"] == "baseline" and status["selection"]["method"] == "bnb-int8"
    assert read_result(run.dir) == {"answer": 42, "out_dir": str(run.dir)}
    log = (run.dir / "run.log").read_text()
    assert "MatMul8bitLt" in log and "clean_up_tokenization_spaces" in log
    assert latest_run(runs_root=tmp_path) == run.dir
    assert not list(run.dir.glob(".*.tmp"))  # atomic writes left no temp files


def test_library_noise_goes_to_the_log_not_stderr_and_kit_bars_stay(tmp_path, capsys):
    before = logging.getLogger("transformers").propagate  # False once transformers has set up its logging
    with quiet_libraries(tmp_path / "run.log"):
        logging.getLogger("transformers.tokenization_utils_base").warning("tokenizer warning")
        warnings.warn("a UserWarning from a library", stacklevel=2)
        print("stray third-party stderr line", file=sys.stderr)
        for _ in tqdm(range(3), desc="other-bar", disable=False):  # a bar from a non-kit module: to the log
            pass
        kit_module = {"__name__": "kit.eval.scoring", "tqdm": tqdm}
        exec("for _ in tqdm(range(3), desc='kit-bar', disable=False): pass", kit_module)  # the kit's own bar stays
    err = capsys.readouterr().err
    log = (tmp_path / "run.log").read_text()
    assert "tokenizer warning" in log and "a UserWarning" in log and "stray third-party" in log
    assert "tokenizer warning" not in err and "stray third-party" not in err
    assert "other-bar" in log and "other-bar" not in err
    assert "kit-bar" in err and "kit-bar" not in log
    assert sys.stderr is not None and logging.getLogger("transformers").propagate is before  # restored


def test_a_run_in_progress_reads_as_running_then_its_outcome(tmp_path):
    gate_open = threading.Event()

    def work(run_dir):
        stage("quantize", "bnb-int8 done")
        gate_open.wait(10)
        return {"ok": True}

    run = start_run(work=work, label="m-uc", selection={}, runs_root=tmp_path)
    deadline = time.time() + 10
    while (read_status(run.dir) or {}).get("stage") != "quantize" and time.time() < deadline:
        time.sleep(0.02)
    status = read_status(run.dir)
    assert status["state"] == "running"  # what a reloaded page or a re-run cell shows
    line = status_html(status, bar=("perplexity", 3, 12), now=status["started"] + 75)
    assert "running" in line and "quantize" in line and "1:15 elapsed" in line and "perplexity" in line
    assert '<progress value="3" max="12"' in line and "3/12" in line
    assert "[quantize] bnb-int8 done" in line  # the stage lines so far, from the status file
    with pytest.raises(KitError, match="already going on"):  # one run at a time: a second click is refused
        start_run(work=work, label="m-uc", selection={}, runs_root=tmp_path)
    gate_open.set()
    assert run.wait(10)["state"] == "done" and read_result(run.dir) == {"ok": True}


def test_cancel_stops_at_the_next_progress_tick_and_keeps_nothing_half_written(tmp_path):
    ticks, pressed = [], threading.Event()

    def work(run_dir):
        for i in tqdm(range(1000), desc="perplexity", disable=True):
            ticks.append(i)
            if i == 3:
                pressed.wait(10)
            time.sleep(0.001)
        (run_dir / "artifact").write_text("never reached")
        return {}

    run = start_run(work=work, label="m-uc", selection={}, runs_root=tmp_path, background=True)
    run.cancel.set()  # what the Cancel button does
    pressed.set()
    status = run.wait(10)
    assert status["state"] == "cancelled" and len(ticks) < 10
    assert not (run.dir / RESULT_FILE).exists() and not (run.dir / "artifact").exists()
    assert panel_runs.active_run() is None  # a new run may start


def test_cancel_also_stops_between_stages(tmp_path):
    pressed = threading.Event()

    def work(run_dir):
        pressed.wait(10)
        stage("baseline", "scored")
        raise AssertionError("the stage line should have stopped the run")

    run = start_run(work=work, label="m-uc", selection={}, runs_root=tmp_path, background=True)
    run.cancel.set()
    pressed.set()
    assert run.wait(10)["state"] == "cancelled"


def test_failures_are_one_line_and_a_dead_kernels_run_reads_interrupted(tmp_path):
    def bad(run_dir):
        raise KitError("use case 'x' unknown; pick one of chat-assistant")

    run = start_run(work=bad, label="m-uc", selection={}, runs_root=tmp_path, background=False)
    assert read_status(run.dir)["error"] == "use case 'x' unknown; pick one of chat-assistant"
    status = json.loads((run.dir / STATUS_FILE).read_text()) | {"state": "running", "pid": 2**22 + 12345}
    (run.dir / STATUS_FILE).write_text(json.dumps(status))
    assert read_status(run.dir)["state"] == "interrupted"
    assert "interrupted" in status_html(read_status(run.dir))
