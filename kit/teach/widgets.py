"""An ipywidgets panel for the interactive path: pick model, method, bits, calibration, use case, size; run.

The callbacks are plain functions and methods (:func:`run_selection`, :func:`render_result`,
:meth:`Panel.on_run`, :meth:`Panel.on_cancel`, :meth:`Panel.refresh`) that tests call directly;
the panel only wires them to widgets. A run goes on in a thread (the kernel stays free, so a
reloaded page gets its widgets back) and records itself in a run folder
(:mod:`kit.teach.panel_runs`); the panel shows whatever that folder says, so the outcome
survives the browser. Without ipywidgets (headless runs) notebooks call :func:`run_selection`.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kit.errors import KitError
from kit.models import DEFAULT_MODEL
from kit.palette import FAIL
from kit.quant.methods import method_bits
from kit.quant.spec import DEFAULT_CALIBRATION, CalibrationSpec, QuantSpec
from kit.teach.panel_runs import LOG_FILE, active_run, latest_run, read_result, read_status, start_run
from kit.teach.panel_view import decision_sentence, log_html, result_html, status_html
from kit.teach.presets import PRESETS, Preset

__all__ = ["METHOD_BITS", "PRESETS", "Panel", "Preset", "Selection", "build_panel", "render_result", "run_selection",
           "widgets_available"]

#: Method → the bits its picker offers: exactly what the method table says the method supports.
METHOD_BITS: dict[str, list[int]] = method_bits()


@dataclasses.dataclass
class Selection:
    """What the user picked in the panel."""

    model: str = DEFAULT_MODEL
    method: str = "bnb-int8"
    bits: int = 8
    calibration: str = DEFAULT_CALIBRATION.name
    use_case: str = "chat-assistant"
    reason: str = ""
    samples: int = PRESETS["custom"].samples  # smaller than the kit default, so an interactive run stays short
    seq_len: int = PRESETS["custom"].seq_len
    max_tokens: int = PRESETS["custom"].max_tokens
    limit: int = PRESETS["custom"].limit
    measure_speed: bool = PRESETS["custom"].measure_speed

    def quant_spec(self) -> QuantSpec:
        """The method, bits and calibration picked, as a :class:`~kit.quant.spec.QuantSpec`."""
        return QuantSpec(method=self.method, bits=self.bits, calibration=CalibrationSpec(
            name=self.calibration, samples=self.samples, seq_len=self.seq_len, seed=DEFAULT_CALIBRATION.seed))

    def protocol(self) -> Any:
        """The evaluation sizes picked (0 = whole set), as a :class:`~kit.eval.harness.Protocol`."""
        from kit.eval.harness import Protocol

        return Protocol(max_tokens=self.max_tokens or None, limit=self.limit or None)


def widgets_available() -> bool:
    """True when ipywidgets can be imported (it is a kit dependency, but stay headless-safe)."""
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def run_selection(selection: Selection, *, runner: Callable[..., dict[str, Any]] | None = None,
                  registry: Any = None, out_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Run the pilot flow for one selection and return its result.

    Args:
        selection: the panel's choices.
        runner: the flow to call (default :func:`kit.govern.pilot.run_pilot`); tests pass a stand-in.
        registry: registry (object, path or URL) passed through to the flow.
        out_dir: the artifact folder (default: the flow's own choice).
    """
    if selection.bits not in METHOD_BITS.get(selection.method, []):
        raise KitError(f"{selection.method} does not do {selection.bits}-bit; choose {METHOD_BITS.get(selection.method)}")
    if runner is None:
        from kit.govern.pilot import run_pilot as runner
    return runner(model=selection.model, use_case=selection.use_case, candidates=[selection.quant_spec()],
                  reason=selection.reason or None, protocol=selection.protocol(), registry=registry,
                  out_dir=out_dir, measure_speed=selection.measure_speed)


def render_result(result: dict[str, Any]) -> str:
    """The decision table, each candidate's gate verdict, and the recommendation, as text.

    Args:
        result: what :func:`run_selection` returned.
    """
    from kit.eval.tables import format_table

    parts = [format_table(result["table"])]
    parts += [c["verdict_text"] + (f"\nscored: {c['scored']}" if c.get("scored") else "") for c in result["candidates"]]
    parts.append(decision_sentence(result)[0])
    return "\n\n".join(parts)


@dataclasses.dataclass
class Panel:
    """The widget tree plus the handles the callbacks use (``parts``: run, cancel, preset, status, result, details)."""

    widget: Any
    controls: dict[str, Any]
    output: Any  # live view: the kit's progress bars and stage lines
    parts: dict[str, Any]
    results: list[dict[str, Any]]
    runner: Callable[..., dict[str, Any]] | None = None
    registry: Any = None
    runs_root: str | os.PathLike[str] | None = None
    background: bool = True
    shown: Path | None = None  # the run folder this panel shows

    def selection(self) -> Selection:
        """The current choices as a :class:`Selection` (speed timing from the size preset)."""
        preset = PRESETS[self.parts["preset"].value]
        return Selection(**{name: w.value for name, w in self.controls.items()}, measure_speed=preset.measure_speed)

    def on_preset(self, change: dict[str, Any]) -> None:
        """Preset callback: set the size fields and say what the size means."""
        p = PRESETS[change["new"]]
        if change["new"] != "custom":
            for name in ("samples", "seq_len", "max_tokens", "limit"):
                self.controls[name].value = getattr(p, name)
        self.parts["preset_note"].value = p.note

    def on_run(self, _button: Any = None) -> None:
        """Run button: start the pilot in its own run folder and show it; refused while a run goes on."""
        sel = self.selection()
        self.output.clear_output()
        self.parts["result"].value = ""

        def work(run_dir: Path) -> dict[str, Any]:
            outcome: dict[str, Any] = {}
            with self.output:  # in the run's thread: displays go to the panel's own output area
                try:  # caught here: in a kernel, Output swallows an exception that leaves its block
                    outcome["result"] = run_selection(sel, runner=self.runner, registry=self.registry,
                                                      out_dir=run_dir)
                except BaseException as exc:  # noqa: BLE001 - re-raised below, outside the Output block
                    outcome["error"] = exc
            if "error" in outcome:
                raise outcome["error"]
            return outcome["result"]

        try:
            run = start_run(work=work, label=f"{Path(sel.model).name}-{sel.use_case}", runs_root=self.runs_root,
                            selection=dataclasses.asdict(sel) | {"preset": self.parts["preset"].value},
                            background=self.background)
        except KitError as exc:
            self.parts["status"].value = f'<span style="color: {FAIL};">error: {exc}</span>'
            return
        self.show(run.dir)

    def on_cancel(self, _button: Any = None) -> None:
        """Cancel button: ask the run to stop at its next safe point (nothing half-written is kept)."""
        run = active_run()
        if run is not None and run.dir == self.shown:
            run.cancel.set()
            self.parts["cancel"].disabled, self.parts["cancel"].description = True, "Cancelling…"

    def on_details(self, change: dict[str, Any]) -> None:
        """Details toggle: show or hide the run's log (library warnings and messages)."""
        self.parts["details"].layout.display = "block" if change["new"] else "none"
        self.refresh()

    def show(self, run_dir: Path | None) -> None:
        """Show a run folder's state from now on; a running one is followed by a one-second ticker."""
        self.shown = run_dir
        if self.refresh() == "running" and self.background:
            threading.Thread(target=self._follow, args=(run_dir,), daemon=True, name="kit-panel-ticker").start()

    def _follow(self, run_dir: Path) -> None:
        while self.shown == run_dir and self.refresh() == "running":
            time.sleep(1.0)

    def refresh(self) -> str | None:
        """Redraw status, buttons, result and details from the shown run's files; return its state."""
        status = read_status(self.shown) if self.shown else None
        state = status["state"] if status else None
        run = active_run()
        mine = run is not None and run.dir == self.shown
        busy = state == "running"
        self.parts["status"].value = status_html(status, bar=run.bar if mine else None)
        button = self.parts["run"]
        button.disabled = busy
        button.description, button.icon = ("Running…", "spinner") if busy else ("Run pilot", "play")
        cancel = self.parts["cancel"]
        if not busy or not mine:
            cancel.disabled, cancel.description = True, "Cancel"
        elif cancel.description != "Cancelling…":
            cancel.disabled = False
        for w in self.controls.values():
            w.disabled = busy
        if state == "done" and not self.parts["result"].value:
            result = read_result(self.shown)
            if result is not None:
                name = (status.get("selection") or {}).get("preset", "custom")
                sized = name in PRESETS and name != "custom" and (PRESETS[name].max_tokens or PRESETS[name].limit)
                self.parts["result"].value = result_html(result, note=PRESETS[name].note if sized else "")
                self.results.append(result)
        if self.parts["toggle"].value and self.shown:
            self.parts["details"].value = log_html(self.shown / LOG_FILE)
        return state


def build_panel(*, selection: Selection | None = None, preset: str | None = None,
                runner: Callable[..., dict[str, Any]] | None = None, registry: Any = None,
                runs_root: str | os.PathLike[str] | None = None, background: bool = True) -> Panel:
    """Build the panel: pickers for a :class:`Selection`, a size preset, Run and Cancel, status, result, details.

    Shows the latest panel run under ``runs_root`` at once (its result, or "running" for one in progress).

    Args:
        selection: initial values.
        preset: a :data:`PRESETS` key (default "quick look", or "custom" when ``selection`` is given).
        runner: the flow (default :func:`kit.govern.pilot.run_pilot`).
        registry: registry passed to the flow.
        runs_root: where run folders go (default :func:`kit.io.runs_dir`).
        background: run in a thread (the notebook) or in the callback itself (tests).
    """
    import ipywidgets as w

    from kit.baselines import store_names
    from kit.eval.sets import bundled_sets
    from kit.govern.policy import load_policies
    from kit.models import ALIASES

    s = selection or Selection()
    preset = preset or ("custom" if selection else "quick look")
    if preset not in PRESETS:
        raise KitError(f"unknown preset '{preset}'; choose one of: {', '.join(PRESETS)}")
    use_cases = sorted(load_policies())
    left, right = {"description_width": "100px"}, {"description_width": "240px"}
    lw, rw = {"width": "310px"}, {"width": "480px"}
    controls = {
        "model": w.Combobox(value=s.model, options=sorted({*ALIASES, *store_names()}), description="model", style=left,
                            layout=lw),
        "method": w.Dropdown(value=s.method, options=list(METHOD_BITS), description="method", style=left, layout=lw),
        "bits": w.Dropdown(value=s.bits, options=[4, 8], description="bits", style=left, layout=lw),
        "calibration": w.Dropdown(value=s.calibration, options=list(bundled_sets("calibration")),
                                  description="calibration set", style=left, layout=lw),
        "use_case": w.Dropdown(value=s.use_case, options=use_cases, description="use case", style=left, layout=lw),
        "reason": w.Text(value=s.reason, description="reason (non-sanctioned method)",
                         placeholder="required if not the sanctioned method", style=right, layout=rw),
        "samples": w.IntSlider(value=s.samples, min=4, max=256, step=4, description="calibration samples",
                               style=right, layout=rw),
        "seq_len": w.IntSlider(value=s.seq_len, min=64, max=1024, step=64,
                               description="calibration tokens per sample", style=right, layout=rw),
        "max_tokens": w.IntText(value=s.max_tokens, description="text tokens scored (0 = whole set)",
                                style=right, layout=rw),
        "limit": w.IntText(value=s.limit, description="items per task set (0 = whole set)", style=right, layout=rw),
    }

    def sync_bits(change: dict[str, Any]) -> None:
        controls["bits"].options = METHOD_BITS[change["new"]]

    controls["method"].observe(sync_bits, names="value")
    controls["bits"].options = METHOD_BITS[s.method]
    controls["bits"].value = s.bits if s.bits in METHOD_BITS[s.method] else METHOD_BITS[s.method][0]
    parts = {
        "preset": w.Dropdown(value=preset, options=list(PRESETS), description="run size", style=left, layout=lw),
        "preset_note": w.HTML(PRESETS[preset].note, layout={"flex": "1 1 300px"}),
        "run": w.Button(description="Run pilot", button_style="primary", icon="play"),
        "cancel": w.Button(description="Cancel", icon="stop", disabled=True),
        "status": w.HTML(),
        "result": w.HTML(layout={"width": "100%"}),
        "toggle": w.ToggleButton(value=False, description="details", icon="list",
                                 tooltip="library warnings and messages of this run, and its log file"),
        "details": w.HTML(layout={"display": "none"}),
    }
    for name, part in parts.items():
        part.add_class(f"kit-{name.replace('_', '-')}")
    # Whatever the run's thread displays (tqdm widgets, library output) is routed here, not into other cells;
    # the progress itself is shown by the status line, which a reloaded page gets back from the kernel.
    output = w.Output(layout={"max_height": "240px", "overflow": "auto"})
    wrap = {"flex_flow": "row wrap", "max_width": "1000px"}  # columns stack on a narrow window
    box = w.VBox([w.HBox([w.VBox(list(controls.values())[:5]), w.VBox(list(controls.values())[5:])], layout=wrap),
                  w.HBox([parts["preset"], parts["preset_note"]], layout=wrap),
                  w.HBox([parts["run"], parts["cancel"], parts["toggle"]]),
                  parts["status"], output, parts["result"], parts["details"]])
    box.add_class("kit-panel")
    panel = Panel(widget=box, controls=controls, output=output, parts=parts, results=[], runner=runner,
                  registry=registry, runs_root=runs_root, background=background)
    if selection is None:
        panel.on_preset({"new": preset})
    parts["preset"].observe(panel.on_preset, names="value")
    parts["run"].on_click(panel.on_run)
    parts["cancel"].on_click(panel.on_cancel)
    parts["toggle"].observe(panel.on_details, names="value")
    panel.show(latest_run(runs_root=runs_root))
    return panel
