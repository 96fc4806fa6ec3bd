"""An ipywidgets panel for the interactive path: pick model, method, bits, calibration, use case; run.

The callbacks are plain functions (:func:`run_selection`, :func:`render_result`) that tests
call directly; the panel only wires them to widgets. Without ipywidgets (headless runs)
notebooks call :func:`run_selection` themselves.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from kit.errors import KitError
from kit.quant.methods import method_bits
from kit.quant.spec import DEFAULT_CALIBRATION, CalibrationSpec, QuantSpec

__all__ = ["METHOD_BITS", "Panel", "Selection", "build_panel", "render_result", "run_selection", "widgets_available"]

#: Method → the bits its picker offers: exactly what the method table says the method supports.
METHOD_BITS: dict[str, list[int]] = method_bits()


@dataclasses.dataclass
class Selection:
    """What the user picked in the panel."""

    model: str = "smollm2-135m"
    method: str = "bnb-int8"
    bits: int = 8
    calibration: str = DEFAULT_CALIBRATION.name
    use_case: str = "chat-assistant"
    reason: str = ""
    samples: int = 16  # smaller than the kit default, so an interactive run stays short
    seq_len: int = 128
    max_tokens: int = 1024
    limit: int = 0

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
                  registry: Any = None) -> dict[str, Any]:
    """Run the pilot flow for one selection and return its result.

    Args:
        selection: the panel's choices.
        runner: the flow to call (default :func:`kit.govern.pilot.run_pilot`); tests pass a stand-in.
        registry: registry (object, path or URL) passed through to the flow.
    """
    if selection.bits not in METHOD_BITS.get(selection.method, []):
        raise KitError(f"{selection.method} does not do {selection.bits}-bit; choose {METHOD_BITS.get(selection.method)}")
    if runner is None:
        from kit.govern.pilot import run_pilot as runner
    return runner(model=selection.model, use_case=selection.use_case, candidates=[selection.quant_spec()],
                  reason=selection.reason or None, protocol=selection.protocol(), registry=registry)


def render_result(result: dict[str, Any]) -> str:
    """The decision table, each candidate's gate verdict, and the recommendation, as text.

    Args:
        result: what :func:`run_selection` returned.
    """
    from kit.eval.tables import format_table

    parts = [format_table(result["table"])]
    parts += [c["verdict_text"] for c in result["candidates"]]
    d = result["decision"]
    parts.append(f"decision: {d['recommended'] or 'keep the baseline'} — {d['why']}")
    return "\n\n".join(parts)


@dataclasses.dataclass
class Panel:
    """The widget tree plus the handles the callbacks use."""

    widget: Any
    controls: dict[str, Any]
    output: Any
    results: list[dict[str, Any]]
    runner: Callable[..., dict[str, Any]] | None = None
    registry: Any = None

    def selection(self) -> Selection:
        """The current choices as a :class:`Selection`."""
        return Selection(**{name: w.value for name, w in self.controls.items()})

    def on_run(self, _button: Any = None) -> None:
        """Button callback: run the selection, show progress and the result in the output area."""
        self.output.clear_output()
        with self.output:
            try:
                result = run_selection(self.selection(), runner=self.runner, registry=self.registry)
            except KitError as exc:
                print(f"error: {exc}")
                return
            self.results.append(result)
            print(render_result(result))


def build_panel(*, selection: Selection | None = None, runner: Callable[..., dict[str, Any]] | None = None,
                registry: Any = None) -> Panel:
    """Build the panel: dropdowns and fields for a :class:`Selection`, a run button, an output area.

    Args:
        selection: initial values.
        runner: the flow (default :func:`kit.govern.pilot.run_pilot`).
        registry: registry passed to the flow.
    """
    import ipywidgets as w

    from kit.eval.sets import bundled_sets
    from kit.models import ALIASES
    from kit.govern.policy import load_policies

    s = selection or Selection()
    use_cases = sorted(load_policies())
    controls = {
        "model": w.Combobox(value=s.model, options=sorted(ALIASES), description="model"),
        "method": w.Dropdown(value=s.method, options=list(METHOD_BITS), description="method"),
        "bits": w.Dropdown(value=s.bits, options=[4, 8], description="bits"),
        "calibration": w.Dropdown(value=s.calibration, options=list(bundled_sets("calibration")), description="calibration"),
        "use_case": w.Dropdown(value=s.use_case, options=use_cases, description="use case"),
        "reason": w.Text(value=s.reason, description="reason", placeholder="required if not the sanctioned method"),
        "samples": w.IntSlider(value=s.samples, min=4, max=256, step=4, description="cal. samples"),
        "seq_len": w.IntSlider(value=s.seq_len, min=64, max=1024, step=64, description="cal. seq len"),
        "max_tokens": w.IntText(value=s.max_tokens, description="eval tokens"),
        "limit": w.IntText(value=s.limit, description="items (0=all)"),
    }

    def sync_bits(change: dict[str, Any]) -> None:
        controls["bits"].options = METHOD_BITS[change["new"]]

    controls["method"].observe(sync_bits, names="value")
    controls["bits"].options = METHOD_BITS[s.method]
    controls["bits"].value = s.bits if s.bits in METHOD_BITS[s.method] else METHOD_BITS[s.method][0]
    button = w.Button(description="Run pilot", button_style="primary", icon="play")
    output = w.Output(layout={"border": "1px solid #ddd", "max_height": "480px", "overflow": "auto"})
    panel = Panel(widget=w.VBox([w.HBox([w.VBox(list(controls.values())[:5]), w.VBox(list(controls.values())[5:])]),
                                 button, output]),
                  controls=controls, output=output, results=[], runner=runner, registry=registry)
    button.on_click(panel.on_run)
    return panel
