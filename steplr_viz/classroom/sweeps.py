"""A class sweep: two settings, their values, one grid cell per student, and the landscape.

The teacher picks two of η₀, γ and s and a few values of each; every cell of the grid is one
run. Students are given cells in turn (steplr_viz.classroom.class_state keeps who has which),
and the landscape is each cell's final and best test accuracy over the runs that finished.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from steplr_viz.config import MAX_SEED, TrainConfig
from steplr_viz.schedules.steplr import lr_choices
from steplr_viz.training.metrics import FINISHED

# The settings a sweep may vary, in the sliders' ranges (η₀ on the sliders' 1-2-5 series).
PARAMS = ("lr", "gamma", "step_size")
SYMBOLS = {"lr": "η₀", "gamma": "γ", "step_size": "s"}
LR_VALUES = tuple(lr_choices())
GAMMA_RANGE = (0.01, 1.0)
STEP_SIZE_RANGE = (1, 100)
MAX_VALUES = 8  # per axis
MAX_CELLS = 64  # 8 × 8: a class of 30 to 60 gives every cell a run or two
MAX_SWEEP_EPOCHS = 30  # the training page's own bound
DEFAULT_VALUES = {
    "lr": (1e-4, 1e-3, 1e-2, 1e-1),
    "gamma": (0.1, 0.3, 0.5, 1.0),
    "step_size": (1, 2, 3, 4),
}
DEFAULT_AXES = ("gamma", "step_size")
METRICS = {"final_acc": "final test accuracy", "best_acc": "best test accuracy"}


def _base_config() -> TrainConfig:
    return TrainConfig(epochs=5, data_source="bundled")


@dataclass(frozen=True)
class SweepSpec:
    """The grid (x across, y down) and the settings every cell shares."""

    x: str = DEFAULT_AXES[0]
    x_values: tuple[float, ...] = DEFAULT_VALUES[DEFAULT_AXES[0]]
    y: str = DEFAULT_AXES[1]
    y_values: tuple[float, ...] = DEFAULT_VALUES[DEFAULT_AXES[1]]
    base: TrainConfig = field(default_factory=_base_config)

    @property
    def n_cells(self) -> int:
        return len(self.x_values) * len(self.y_values)

    def cell_values(self, cell: int) -> tuple[float, float]:
        """(x value, y value) of a cell; cells are numbered row by row (y outer, x inner)."""
        row, col = divmod(cell, len(self.x_values))
        return self.x_values[col], self.y_values[row]

    def cell_label(self, cell: int) -> str:
        """A cell in words: "γ = 0.5, s = 2"."""
        xv, yv = self.cell_values(cell)
        return f"{SYMBOLS[self.x]} = {value_label(self.x, xv)}, {SYMBOLS[self.y]} = " + (
            value_label(self.y, yv)
        )

    def config(self, cell: int, seed: int) -> TrainConfig:
        """The run of one cell with one seed (the base config with the cell's two values)."""
        xv, yv = self.cell_values(cell)
        changes: dict[str, Any] = {self.x: xv, self.y: yv, "seed": seed}
        for name in (self.x, self.y):
            if name == "step_size":
                changes[name] = int(changes[name])
        return replace(self.base, **changes)

    def to_json(self) -> str:
        return json.dumps(
            {
                "x": self.x,
                "x_values": list(self.x_values),
                "y": self.y,
                "y_values": list(self.y_values),
                "base": self.base.to_dict(),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> SweepSpec:
        data = json.loads(text)
        return check_spec(
            cls(
                x=data["x"],
                x_values=tuple(data["x_values"]),
                y=data["y"],
                y_values=tuple(data["y_values"]),
                base=TrainConfig.from_dict(data["base"]),
            )
        )


def value_label(param: str, value: float) -> str:
    """How a value reads on the grid: 0.001, 0.5, 3."""
    return str(int(value)) if param == "step_size" else f"{value:g}"


def check_value(param: str, value: object) -> float | int:
    """One value of a setting, inside its slider's range; ValueError naming the range."""
    name = SYMBOLS.get(param, param)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} values must be numbers, got {str(value)[:20]!r}")
    if not math.isfinite(value):
        raise ValueError(f"{name} values must be finite numbers")
    if param == "lr":
        for choice in LR_VALUES:
            if math.isclose(value, choice, rel_tol=1e-9):
                return choice
        raise ValueError(
            f"η₀ values must be on the slider's 1-2-5 series from 1e-05 to 1 ({value:g})"
        )
    if param == "gamma":
        low, high = GAMMA_RANGE
        if not low <= value <= high:
            raise ValueError(f"γ values must be between {low:g} and {high:g} ({value:g})")
        return round(float(value), 2)  # the slider's 0.01 steps
    if param == "step_size":
        low, high = STEP_SIZE_RANGE
        if value != int(value) or not low <= value <= high:
            raise ValueError(f"s values must be whole numbers from {low} to {high} ({value:g})")
        return int(value)
    raise ValueError(f"a sweep varies two of {', '.join(SYMBOLS.values())}, not {param!r}")


def parse_values(param: str, text: object) -> tuple[float, ...]:
    """Comma-separated values typed by the teacher, checked; ValueError in plain words."""
    if not isinstance(text, str):
        raise ValueError("values must be text such as 0.1, 0.5, 1")
    if len(text) > 400:
        raise ValueError(f"at most {MAX_VALUES} values per setting, comma-separated")
    parts = [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]
    values = []
    for part in parts:
        try:
            number = float(part)
        except ValueError:
            raise ValueError(f"{part[:20]!r} is not a number") from None
        values.append(check_value(param, number))
    return _check_axis(param, tuple(values))


def _check_axis(param: str, values: tuple) -> tuple:
    name = SYMBOLS.get(param, param)
    if not isinstance(values, tuple) or not values:
        raise ValueError(f"give at least one value of {name}")
    if len(values) > MAX_VALUES:
        raise ValueError(f"at most {MAX_VALUES} values of {name}, got {len(values)}")
    checked = tuple(check_value(param, v) for v in values)
    if len(set(checked)) != len(checked):
        raise ValueError(f"the values of {name} repeat")
    return tuple(sorted(checked))


def check_spec(spec: SweepSpec) -> SweepSpec:
    """A valid sweep (axes sorted), or ValueError with a sentence a teacher can act on."""
    if not isinstance(spec, SweepSpec):
        raise ValueError("a sweep must be a SweepSpec")
    for param in (spec.x, spec.y):
        if param not in PARAMS:
            raise ValueError(f"a sweep varies two of {', '.join(SYMBOLS.values())}, not {param!r}")
    if spec.x == spec.y:
        raise ValueError("pick two different settings")
    # The size first: a sweep of thousands of cells is refused before any value is read.
    n_cells = len(spec.x_values) * len(spec.y_values)
    if n_cells > MAX_CELLS:
        raise ValueError(
            f"a sweep has at most {MAX_CELLS} cells ({MAX_VALUES} × {MAX_VALUES}); "
            f"{len(spec.x_values)} × {len(spec.y_values)} = {n_cells:,} were asked for"
        )
    x_values = _check_axis(spec.x, tuple(spec.x_values))
    y_values = _check_axis(spec.y, tuple(spec.y_values))
    if len(x_values) * len(y_values) < 2:
        raise ValueError("a sweep needs at least two cells")
    if not isinstance(spec.base, TrainConfig):
        raise ValueError("the sweep's base must be a TrainConfig")
    base = replace(spec.base).validated()  # a copy: validated() normalises in place
    if base.epochs > MAX_SWEEP_EPOCHS:
        raise ValueError(f"a sweep's runs have 1 to {MAX_SWEEP_EPOCHS} epochs")
    if base.seed > MAX_SEED - 10_000:
        raise ValueError("the sweep's seed leaves no room for the seeds of repeated cells")
    return replace(spec, x_values=x_values, y_values=y_values, base=base)


def default_spec(x: str = DEFAULT_AXES[0], y: str = DEFAULT_AXES[1], **base: Any) -> SweepSpec:
    """The default grid of two settings (4 × 4 values), on the bundled digits for 5 epochs."""
    config = replace(_base_config(), **base)
    return check_spec(SweepSpec(x, DEFAULT_VALUES[x], y, DEFAULT_VALUES[y], config))


def seed_for(spec: SweepSpec, turn: int) -> int:
    """The seed of the `turn`-th cell given: the base seed, +1 each time the cells run out."""
    return spec.base.seed + turn // spec.n_cells


LANDSCAPE_COLUMNS = [
    "cell", "x", "y", "label", "given", "started", "finished",
    "final_acc", "best_acc", "final_sd",
]  # fmt: skip


def landscape(spec: SweepSpec, rows: pd.DataFrame) -> pd.DataFrame:
    """One row per cell: runs given, started and finished, and mean final/best accuracy.

    `rows` has one row per given cell: cell, run_id, status, final_acc, best_acc (NaN where
    the run has not finished). Only finished runs count towards the accuracies.
    """
    cells = pd.RangeIndex(spec.n_cells, name="cell")
    out = pd.DataFrame(index=cells)
    values = [spec.cell_values(c) for c in cells]
    out["x"] = [v[0] for v in values]
    out["y"] = [v[1] for v in values]
    out["label"] = [spec.cell_label(c) for c in cells]
    if len(rows):
        by_cell = rows.groupby("cell")
        out["given"] = by_cell.size().reindex(cells, fill_value=0)
        out["started"] = by_cell["run_id"].count().reindex(cells, fill_value=0)
        done = rows[rows["status"] == FINISHED]
        finals = pd.to_numeric(done["final_acc"], errors="coerce")
        bests = pd.to_numeric(done["best_acc"], errors="coerce")
        out["finished"] = finals.groupby(done["cell"]).count().reindex(cells, fill_value=0)
        out["final_acc"] = finals.groupby(done["cell"]).mean().reindex(cells)
        out["best_acc"] = bests.groupby(done["cell"]).mean().reindex(cells)
        out["final_sd"] = finals.groupby(done["cell"]).std().reindex(cells)
    else:
        out["given"] = out["started"] = out["finished"] = 0
        out["final_acc"] = out["best_acc"] = out["final_sd"] = math.nan
    out = out.reset_index()
    for col in ("given", "started", "finished"):
        out[col] = out[col].astype("int64")
    for col in ("final_acc", "best_acc", "final_sd"):
        out[col] = out[col].astype("float64")
    return out[LANDSCAPE_COLUMNS]


def best_cell(table: pd.DataFrame, metric: str = "final_acc") -> int | None:
    """The cell with the highest mean accuracy (the first of a tie); None before any finish."""
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}")
    scores = table[metric]
    if scores.isna().all():
        return None
    return int(table.loc[scores.idxmax(), "cell"])


def filled(table: pd.DataFrame) -> int:
    """How many cells have at least one finished run."""
    return int((table["finished"] > 0).sum())


__all__ = [
    "MAX_CELLS",
    "MAX_VALUES",
    "PARAMS",
    "SYMBOLS",
    "SweepSpec",
    "best_cell",
    "check_spec",
    "check_value",
    "default_spec",
    "filled",
    "landscape",
    "parse_values",
    "seed_for",
    "value_label",
]
