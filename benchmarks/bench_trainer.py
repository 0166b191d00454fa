"""Training throughput: the seed's per-item ToTensor DataLoader vs a bare tensor loop vs Trainer.

Run from the repo root: python benchmarks/bench_trainer.py [--rounds 5] [--database-url URL]
All three train the seed's SimpleNet with Adam (lr 1e-3), batch 64, on the same
bundled MNIST data, in this one process; rounds are interleaved so load on the machine hits all
three alike; the best and the median round are reported. Targets: trainer >= 8x the seed's path and
>= 0.85x the bare loop, judged on the trainer's batch-loop clock: the same work as the bare loop
(shuffle, batches) plus the trainer's own metrics, callbacks and pause checks; not its per-epoch
test evaluation, which the bare loop does not do (the wall clock with it is printed too).
With --database-url (postgresql://...) a fourth path, (d), is the Trainer recording every batch
and epoch to that run store as it trains (StoreRecorder, as the app does); target: >= 0.9x (c).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from PIL import Image  # noqa: E402
from torch.utils.data import DataLoader, Dataset  # noqa: E402
from torchvision import transforms  # noqa: E402

from steplr_viz.config import TrainConfig
from steplr_viz.store.recorder import StoreRecorder
from steplr_viz.store.runs import RunStore
from steplr_viz.training.data import MnistData, load_mnist
from steplr_viz.training.metrics import FINISHED
from steplr_viz.training.model import SimpleNet
from steplr_viz.training.trainer import Trainer

BATCH = 64
TARGET_VS_SEED = 8.0
TARGET_VS_BARE = 0.85
TARGET_RECORDED = 0.9  # recording to a shared store keeps the trainer within 10 %


class SeedStyleMNIST(Dataset):
    """What torchvision's MNIST does per item: uint8 28x28 -> PIL image -> ToTensor()."""

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        self.images, self.labels = images, labels
        self.transform = transforms.ToTensor()

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        img = Image.fromarray(self.images[i])  # mode "L", as torchvision's MNIST builds it
        return self.transform(img), int(self.labels[i])


def seed_epoch(dataset: SeedStyleMNIST, seed: int) -> float:
    """The seed's train(): DataLoader(batch_size=64, shuffle=True) over the per-item dataset."""
    torch.manual_seed(seed)
    model = SimpleNet()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True)
    start = time.perf_counter()
    model.train()
    total_loss = 0.0
    for data, target in loader:
        optimizer.zero_grad()
        loss = criterion(model(data), target)
        loss.backward()
        optimizer.step()
        total_loss += loss.item()
    return time.perf_counter() - start


def bare_epochs(data: MnistData, seed: int, epochs: int) -> float:
    """The least a tensor loop can do: index a batch, forward, loss, backward, step, loss.item()."""
    torch.manual_seed(seed)
    model = SimpleNet()
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    x, y = data.train_x, data.train_y
    n = x.shape[0]
    shuffle = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=shuffle)
        total_loss = 0.0
        for b in range(0, n, BATCH):
            idx = perm[b : b + BATCH]
            optimizer.zero_grad()
            loss = criterion(model(x[idx]), y[idx])
            loss.backward()
            optimizer.step()
            total_loss += loss.item()
    return time.perf_counter() - start


def trainer_epochs(
    data: MnistData, seed: int, epochs: int, store: RunStore | None = None
) -> tuple[float, float]:
    """Trainer.run(): (its batch-loop seconds, wall seconds incl. setup and test evaluation)."""
    start = time.perf_counter()
    config = TrainConfig(epochs=epochs, seed=seed)
    trainer = Trainer(config, data)
    if store is not None:
        StoreRecorder(store, store.create_run(config)).attach(trainer)
    snap = trainer.run()
    wall = time.perf_counter() - start
    assert snap.status == FINISHED, snap.error
    return snap.train_seconds, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median)")
    parser.add_argument(
        "--epochs", type=int, default=3, help="epochs per round for the bare loop and the trainer"
    )
    parser.add_argument(
        "--threads", type=int, default=0, help="torch intra-op threads (default: leave as is)"
    )
    parser.add_argument(
        "--database-url", default=None, help="also time the Trainer recording to this store"
    )
    args = parser.parse_args()
    store = RunStore(database_url=args.database_url) if args.database_url else None
    if args.threads > 0:  # a busy shared machine: 1 thread avoids OpenMP waiting on a busy core
        torch.set_num_threads(args.threads)

    data = load_mnist("bundled")
    n = data.n_train
    images = (data.train_x * 255).round().to(torch.uint8).view(-1, 28, 28).numpy()
    dataset = SeedStyleMNIST(images, data.train_y.numpy())
    # The per-item path yields exactly the tensors the trainer holds.
    assert torch.equal(dataset[5][0].view(-1), data.train_x[5])

    # Warm-up: the first optimizer in a process imports torch._dynamo (seconds, once).
    seed_epoch(dataset, 0), bare_epochs(data, 0, 1), trainer_epochs(data, 0, 1)

    seed_t, bare_t, trainer_t, trainer_wall, recorded_t = [], [], [], [], []
    for r in range(1, args.rounds + 1):
        seed_t.append(seed_epoch(dataset, r))
        bare_t.append(bare_epochs(data, r, args.epochs) / args.epochs)
        loop, wall = trainer_epochs(data, r, args.epochs)
        loop, wall = loop / args.epochs, wall / args.epochs
        trainer_t.append(loop)
        trainer_wall.append(wall)
        if store is not None:
            recorded_t.append(trainer_epochs(data, r, args.epochs, store)[0] / args.epochs)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"bundled MNIST, {n:,} train digits, batch {BATCH}, SimpleNet + Adam; per round: seed "
        f"1 epoch, bare and trainer {args.epochs}; {args.rounds} interleaved rounds; "
        f"torch threads {torch.get_num_threads()}, load average {load:.2f}"
    )
    # best = fastest round (closest to the uncontended cost on a shared machine); median too.
    for label, pick in (("best", min), ("median", statistics.median)):
        seed_sps, bare_sps = n / pick(seed_t), n / pick(bare_t)
        trainer_sps, wall_sps = n / pick(trainer_t), n / pick(trainer_wall)
        vs_seed, vs_bare = trainer_sps / seed_sps, trainer_sps / bare_sps
        print(f"[{label} of {args.rounds}]")
        print(f"(a) seed path (per-item ToTensor + DataLoader):  {seed_sps:>10,.0f} samples/s")
        print(f"(b) bare tensor loop:                            {bare_sps:>10,.0f} samples/s")
        print(f"(c) Trainer, batch loop incl. metrics/callbacks: {trainer_sps:>10,.0f} samples/s")
        print(f"    Trainer wall incl. setup + test evaluation:  {wall_sps:>10,.0f} samples/s")
        print(
            f"    trainer / seed = {vs_seed:.1f}x (target >= {TARGET_VS_SEED:g}: "
            f"{'OK' if vs_seed >= TARGET_VS_SEED else 'MISS'}); "
            f"trainer / bare = {vs_bare:.2f} (target >= {TARGET_VS_BARE:g}: "
            f"{'OK' if vs_bare >= TARGET_VS_BARE else 'MISS'}); "
            f"wall: {wall_sps / seed_sps:.1f}x seed, {wall_sps / bare_sps:.2f} bare"
        )
        if recorded_t:
            rec_sps = n / pick(recorded_t)
            ratio = rec_sps / trainer_sps
            name = f"(d) Trainer recording to {store.dialect.name}:"
            print(f"{name:<49}{rec_sps:>10,.0f} samples/s")
            print(
                f"    recorded / trainer = {ratio:.2f} (target >= {TARGET_RECORDED:g}: "
                f"{'OK' if ratio >= TARGET_RECORDED else 'MISS'})"
            )


if __name__ == "__main__":
    main()
