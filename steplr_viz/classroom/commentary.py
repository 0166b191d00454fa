"""What an experiment's runs show, in sentences: the ranking, a paired verdict per pair of arms,
final against best, and what the test loss did after each decay, each judged against its noise.

A winner is named only over equal, finished epochs: once no run is live, over the complete runs
of the seeds every arm completed (experiments.comparable). Epochs are counted from 1, as the
training page counts them (the formula's t is the epoch minus 1).
"""

from __future__ import annotations

import math
from itertools import combinations

import pandas as pd

from steplr_viz.classroom import experiments
from steplr_viz.classroom.paired import PairedComparison, paired_comparison, same
from steplr_viz.classroom.presets import TOGETHER, Preset
from steplr_viz.training.metrics import FINISHED

__all__ = [
    "MAX_DECAYS_DESCRIBED",
    "STALL_FRACTION",
    "commentary",
    "first_place_note",
    "lesson_shown",
    "pair_comparisons",
    "paired_sentence",
    "points_text",
]

# A loss fall after a decay below this fraction of the fall without it counts as a stall.
STALL_FRACTION = 0.25
MAX_DECAYS_DESCRIBED = 3  # per arm; an exponential schedule decays every epoch


def points_text(value: float, signed: bool = False) -> str:
    """Percentage points with 2 decimals; a nonzero value never prints as 0.00."""
    text = f"{value:+.2f}" if signed else f"{value:.2f}"
    if value != 0 and float(text) == 0:
        text = f"{value:+.1g}" if signed else f"{value:.1g}"
    return text


def _loss_text(value: float, signed: bool = False) -> str:
    """A loss (change) with 4 decimals; a nonzero value never prints as 0.0000."""
    text = f"{value:+.4f}" if signed else f"{value:.4f}"
    if value != 0 and float(text) == 0:
        text = f"{value:+.1e}" if signed else f"{value:.1e}"
    return text


def _seeds_text(seeds) -> str:
    seeds = list(seeds)
    return f"seed {seeds[0]}" if len(seeds) == 1 else "seeds " + ", ".join(map(str, seeds))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


# --------------------------------------------------------------------------- the verdicts


def pair_comparisons(points: pd.DataFrame, metric: str = "final_acc") -> list[PairedComparison]:
    """Every pair of arms, paired by seed over comparable(points); the higher mean is `a`.

    Pairs follow the ranking by mean final accuracy: first against second, first against
    third, ..., second against third.
    """
    by_seed = experiments.final_by_seed(points, metric)
    table = experiments.results_table(points)
    if table.empty:
        return []
    order = list(experiments.ranked(table)["arm"])
    return [paired_comparison(a, by_seed[a], b, by_seed[b]) for a, b in combinations(order, 2)]


def paired_sentence(c: PairedComparison) -> str:
    """One pair of arms: mean per-seed difference, its 95 % interval, seeds favouring each."""
    head = f"{c.a} vs {c.b}, paired by seed"
    if c.n == 1:
        return (
            f"{head} ({_seeds_text(c.seeds)} alone): a difference of "
            f"{points_text(c.mean, signed=True)} points; with one seed there is nothing to "
            "judge the noise by: run more seeds."
        )
    if c.all_tied:
        return f"{head}: the same final test accuracy on all {c.n} seeds: a tie."
    counts = f"seeds favouring {c.a}: {c.a_better} of {c.n}, {c.b}: {c.b_better}" + (
        f", tied: {c.ties}" if c.ties else ""
    )
    stats = (
        f"mean difference {points_text(c.mean, signed=True)} points (95 % interval "
        f"{points_text(c.low, signed=True)} to {points_text(c.high, signed=True)}), {counts}"
    )
    if c.winner is None:
        noise = "the interval holds 0, so with these seeds the difference could be noise"
        return f"{head}: {stats}: {noise}."
    lead = "on every seed" if c.a_better == c.n else "beyond the seed-to-seed noise"
    return f"{head}: {stats}: {c.winner} wins by {points_text(abs(c.mean))} points, {lead}."


def first_place_note(points: pd.DataFrame) -> str:
    """How far the first arm's lead holds, for the reveal: beyond the noise, or not."""
    comparisons = pair_comparisons(points)
    table = experiments.results_table(points)
    if table.empty:
        return ""
    top = set(experiments.winners(table))
    against = [c for c in comparisons if c.a in top and c.b not in top]
    if not against:
        return ""
    if against[0].n == 1:
        return "With one seed, nothing tells whether its lead is more than noise."
    noisy = [c.b for c in against if c.winner is None]
    if not noisy:
        return "Paired by seed, its lead over every other arm is beyond the noise."
    return f"Paired by seed, its lead over {' and '.join(noisy)} could be noise."


# --------------------------------------------------------------------------- the sentences


def commentary(
    points: pd.DataFrame, *, live: int = 0, preset: Preset | None = None, brief: bool = False
) -> list[str]:
    """Sentences computed from the runs (`live`: how many are still queued, running or paused).

    Brief: the ranking and the paired verdicts only (a projector's worth).
    """
    runs = experiments.run_outcomes(points)
    usable = experiments.comparable(points)
    seeds = sorted(set(usable["seed"]))
    if live:
        return [
            f"{_plural(live, 'run')} still to finish: a winner is named only over equal, "
            "finished epochs, once every run has ended. Until then the table and the charts "
            f"hold the seeds that every arm has finished ({len(seeds)} so far)."
        ]
    if runs.empty:
        return ["No epoch has finished yet."]
    lines = _left_out(runs, seeds)
    table = experiments.results_table(points)
    if table.empty:
        return [*lines, "No seed finished in every arm: there is nothing to compare."]
    lines.append(_ranking_sentence(table, seeds))
    lines.extend(paired_sentence(c) for c in pair_comparisons(points))
    if brief:
        return lines
    if len(table) > 1:
        lines.append(_final_and_best(table))
    lines.extend(_decay_sentences(usable))
    if preset is not None:
        lines.extend(_preset_sentences(preset, table, points))
    return lines


def _left_out(runs: pd.DataFrame, seeds: list[int]) -> list[str]:
    """Runs without a final accuracy, and the seeds that leaves out of every arm."""
    broken = runs[~runs["complete"]]
    if broken.empty:
        return []
    named = ", ".join(
        f"{r.arm} seed {r.seed} ({r.status} at epoch {r.reached} of {r.planned})"
        if r.status != FINISHED
        else f"{r.arm} seed {r.seed} (ended at epoch {r.reached} of {r.planned})"
        for r in broken.itertuples()
    )
    dropped = sorted(set(runs["seed"]) - set(seeds))
    return [
        f"Left out: {named}. A run that did not finish has no final accuracy, so "
        f"{_seeds_text(dropped)} {'is' if len(dropped) == 1 else 'are'} left out of every arm, "
        "and the arms are compared on the same seeds"
        + (f": {', '.join(map(str, seeds))}." if seeds else ".")
    ]


def _ranking_sentence(table: pd.DataFrame, seeds: list[int]) -> str:
    order = experiments.ranked(table)
    best = order.iloc[0]
    over = f"over {_seeds_text(seeds)}, after all {best['epochs']} epochs"
    if len(order) == 1:
        return (
            f"{best['arm']} reached a mean final test accuracy of "
            f"{best['final_acc_mean']:.2f} % {over}."
        )
    tied = experiments.tied_first(order)
    rest = order.iloc[len(tied) :]
    head = (
        f"{' and '.join(tied['arm'])} tie for first"
        if len(tied) > 1
        else f"{best['arm']} comes first"
    )
    others = "".join(
        f", {points_text(best['final_acc_mean'] - row['final_acc_mean'])} points above "
        f"{row['arm']} ({row['final_acc_mean']:.2f} %)"
        for _, row in rest.iterrows()
    )
    return (
        f"By mean final test accuracy {over}: {head} with {best['final_acc_mean']:.2f} %{others}."
    )


def _final_and_best(table: pd.DataFrame) -> str:
    by_final = list(experiments.ranked(table)["arm"])
    by_best = list(table.sort_values("best_acc_mean", ascending=False, kind="stable")["arm"])
    head = (
        "The verdicts use each run's final test accuracy, the model it ends with; each run's "
        "best epoch (picked by looking at the test set) is in the table's best column"
    )
    if by_final == by_best:
        return head + ", which ranks the arms the same way."
    best = table.set_index("arm")["best_acc_mean"]
    ranking = ", ".join(f"{a} ({best[a]:.2f} %)" for a in by_best)
    return f"{head}, which ranks them differently: {ranking}."


def lesson_shown(preset: Preset, points: pd.DataFrame) -> bool:
    """The runs show the preset's lesson: its expected arm first, beyond the noise against all."""
    table = experiments.results_table(points)
    if table.empty or experiments.winners(table) != [preset.expected]:
        return False
    beaten = [c for c in pair_comparisons(points) if c.a == preset.expected]
    return len(beaten) == len(table) - 1 and all(c.winner == c.a for c in beaten)


def _preset_sentences(preset: Preset, table: pd.DataFrame, points: pd.DataFrame) -> list[str]:
    """The preset's lesson, said only when the runs show it (its arm wins beyond the noise)."""
    if not lesson_shown(preset, points):
        return [
            f"{preset.name}: these runs do not show {preset.expected} ahead of every other arm "
            "beyond the noise, as this preset usually does."
        ]
    return [f"{preset.name}. {preset.lesson}", TOGETHER]


# --------------------------------------------------------------------------- after each decay


def _decay_sentences(usable: pd.DataFrame) -> list[str]:
    """What the test loss did in the epoch after each LR decay, per arm, against its noise."""
    band = experiments.bands(usable)
    frames = experiments.arm_frames(band)
    losses = {
        str(arm): g.pivot(index="epoch", columns="seed", values="test_loss")
        for arm, g in usable.groupby("arm", observed=True)
    }
    decays = experiments.arm_decays(band)
    lines = []
    for arm, epochs in decays.items():
        for e in epochs[:MAX_DECAYS_DESCRIBED]:
            lines.append(_one_decay(arm, e, frames, losses, decays))
        if len(epochs) > MAX_DECAYS_DESCRIBED:
            more = len(epochs) - MAX_DECAYS_DESCRIBED
            lines.append(f"{arm}: {more} more decay{'' if more == 1 else 's'} not described.")
    return lines


def _reference(
    arm: str, e: int, frames: dict[str, pd.DataFrame], decays: dict[str, list[int]]
) -> tuple[str, str | None]:
    """What epoch e would have done without this decay, on the same seeds.

    First choice: an arm that kept this arm's LR through epoch e. Else an arm that did not
    decay at epoch e (one that never decays first): ordinary slowing shows there too. Else this
    arm's own epoch before, which cannot tell ordinary slowing from the decay's effect.
    """
    kept = frames[arm].at[e - 1, "lr"]
    others = [o for o, h in frames.items() if o != arm and {e - 1, e} <= set(h.index)]
    for other in others:
        h = frames[other]
        if math.isclose(h.at[e - 1, "lr"], kept) and math.isclose(h.at[e, "lr"], kept):
            return "kept", other
    steady = [o for o in others if math.isclose(frames[o].at[e, "lr"], frames[o].at[e - 1, "lr"])]
    steady.sort(key=lambda o: bool(decays.get(o)))
    if steady:
        return "steady", steady[0]
    if (e - 2) in frames[arm].index:
        return "before", None
    return "none", None


def _change_text(change: float, noun: bool = False) -> str:
    if change < 0:
        return f"a fall of {_loss_text(-change)}" if noun else f"fell by {_loss_text(-change)}"
    if change > 0:
        return f"a rise of {_loss_text(change)}" if noun else f"rose by {_loss_text(change)}"
    return "no change" if noun else "did not change"


def _one_decay(
    arm: str,
    e: int,
    frames: dict[str, pd.DataFrame],
    losses: dict[str, pd.DataFrame],
    decays: dict[str, list[int]],
) -> str:
    """One decay: the loss change in the epoch after it, per seed, against a reference change."""
    g = frames[arm]
    head = (
        f"{arm}, epoch {e} (counted from 1): the LR fell from {g.at[e - 1, 'lr']:.3g} to "
        f"{g.at[e, 'lr']:.3g}"
    )
    own = losses[arm].loc[e] - losses[arm].loc[e - 1]
    kind, other = _reference(arm, e, frames, decays)
    if kind == "before":
        ref = losses[arm].loc[e - 1] - losses[arm].loc[e - 2]
    elif other is not None:
        ref = losses[other].loc[e] - losses[other].loc[e - 1]
    else:
        ref = None
    values = [*own, *([] if ref is None else ref)]
    if not all(math.isfinite(v) for v in values):
        return f"{head}; the test loss is not a finite number on some seed: nothing to compare."
    n = len(own)
    text = f"{head}; the test loss {_change_text(own.mean())} (mean over {_plural(n, 'seed')})"
    if ref is None:
        return text + "; no other arm or earlier epoch to compare it with."
    where = {
        "kept": f"in {other}, which kept the LR at {g.at[e - 1, 'lr']:.3g}",
        "steady": f"in {other}, which did not decay that epoch (its LR: "
        f"{frames[other if other else arm].at[e, 'lr']:.3g})",
        "before": f"in its own epoch {e - 1}, before the decay",
    }[kind]
    text += f", against {_change_text(ref.mean(), noun=True)} {where}"
    c = paired_comparison(arm, own.to_dict(), "reference", ref.to_dict())
    return f"{text}: {_decay_verdict(kind, c, own.mean(), ref.mean())}."


def _decay_verdict(kind: str, c: PairedComparison, own: float, ref: float) -> str:
    if c.n == 1:
        return "with one seed the two cannot be told apart from noise"
    stats = (
        f"per-seed difference {_loss_text(c.mean, signed=True)}, 95 % interval "
        f"{_loss_text(c.low, signed=True)} to {_loss_text(c.high, signed=True)}"
    )
    if c.holds_zero or same(c.mean, 0.0):
        return f"the two cannot be told apart ({stats}, which holds 0)"
    beyond = f"beyond the seed-to-seed noise ({stats})"
    if kind != "kept":
        there = "there" if kind == "steady" else "in the epoch before"
        word = f"the loss did {'better' if c.mean < 0 else 'worse'} than {there}"
        caveat = (
            "; one arm alone cannot tell the decay's effect from ordinary slowing"
            if kind == "before"
            else ""
        )
        return f"{word}, {beyond}{caveat}"
    if c.mean < 0:
        return f"the decay helped the loss, {beyond}"
    if own < 0 and ref < 0:
        share = own / ref
        word = "stalled at" if share < STALL_FRACTION else "slowed to"
        return f"with the decay the fall {word} {share:.0%} of that, {beyond}"
    if own >= 0 > ref:
        did = "rose" if own > 0 else "stopped falling"
        return f"the loss {did} where, without the decay, it fell, {beyond}"
    return f"the loss rose more than without the decay, {beyond}"
