"""CNNClassifier(accelerate=...): skorch's AccelerateMixin, on one process and on two (DDP)."""

import os
import pickle
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from skorch.dataset import Dataset
from torch.utils.data import Subset

from sklearn_braintumor.classifiers import CNNClassifier
from sklearn_braintumor.classifiers._data import TensorBatches
from sklearn_braintumor.datasets import make_synthetic_mri
from sklearn_braintumor.utils import load

pytest.importorskip("accelerate")
import ddp_worker  # tests/ is on sys.path, as pytest puts it there

WORKER = Path(__file__).with_name("ddp_worker.py")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch(out, processes, batch_size, precision="no", device="cpu"):
    """Run tests/ddp_worker.py in ``processes`` processes through torchrun (gloo on CPUs)."""
    out.mkdir()
    if processes == 1:  # no launcher: accelerate runs in the plain process
        command = [sys.executable, str(WORKER)]
    else:
        command = [
            sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={processes}",
            "--master_addr=127.0.0.1", f"--master_port={free_port()}", str(WORKER),
        ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""
    result = subprocess.run(
        [*command, str(out), str(batch_size), precision, device],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    (out / "stdout.txt").write_text(result.stdout)
    return [dict(np.load(out / f"rank{rank}.npz")) for rank in range(processes)]


def weights(run):
    return {k: v for k, v in run.items() if k.startswith("w_")}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("accelerate")
    return {
        "ddp": launch(root / "ddp", 2, batch_size=4),
        "single": launch(root / "single", 1, batch_size=8),
        "ddp_dir": root / "ddp",
    }


def test_two_processes_train_like_one_on_the_same_global_batches(runs):
    rank0, rank1 = runs["ddp"]
    (single,) = runs["single"]
    assert rank0["processes"] == 2 and single["processes"] == 1
    # DDP keeps the two processes' weights equal, and averages their gradients: two halves of
    # a global batch of 8 give the gradient of the whole batch, as one process with 8 has it
    for name, value in weights(rank0).items():
        np.testing.assert_array_equal(rank1[name], value)
        np.testing.assert_allclose(value, single[name], rtol=0, atol=1e-6)
    np.testing.assert_allclose(rank0["proba"], single["proba"], atol=1e-6)
    np.testing.assert_array_equal(rank0["proba"], rank1["proba"])
    # validation runs on all validation images in every process: equal scores everywhere, so
    # keep_best chose the same epoch in both (here not the last one, so weights were restored)
    np.testing.assert_array_equal(rank0["valid_loss"], rank1["valid_loss"])
    np.testing.assert_allclose(rank0["valid_loss"], single["valid_loss"], atol=1e-6)
    assert np.argmin(rank0["valid_loss"]) < len(rank0["valid_loss"]) - 1
    # verbose=1: the epoch table and early stopping's message come from the main process only
    printed = (runs["ddp_dir"] / "stdout.txt").read_text()
    assert printed.count("valid_loss") == 1 and printed.count("Restoring best model") == 1


def test_each_process_trains_on_its_own_half_of_every_epoch(runs):
    rank0, rank1 = runs["ddp"]
    train = sorted(set(range(51)) - set(rank0["valid_indices"].tolist()))  # 40 images
    np.testing.assert_array_equal(rank0["valid_indices"], rank1["valid_indices"])
    assert rank0["batches"].tolist() == rank1["batches"].tolist() == [4] * 20  # 5 steps x 4
    for epoch in range(4):
        part0 = rank0["seen"][epoch * 20 : (epoch + 1) * 20]
        part1 = rank1["seen"][epoch * 20 : (epoch + 1) * 20]
        assert set(part0).isdisjoint(part1)
        assert sorted([*part0, *part1]) == train
    assert rank0["seen"][:20].tolist() != rank0["seen"][20:40].tolist()  # reshuffled


def test_the_saved_model_predicts_without_accelerate(runs, predict_without_gpu):
    clf = load(runs["ddp_dir"] / "model.joblib", trusted=True)
    assert clf.net_.accelerator is None
    assert not isinstance(clf.module_, torch.nn.parallel.DistributedDataParallel)
    X, _ = ddp_worker.data()
    np.testing.assert_allclose(clf.predict_proba(X), runs["ddp"][0]["proba"], atol=1e-7)
    # and in a fresh process, as a user loads it
    proba = predict_without_gpu(runs["ddp_dir"] / "model.joblib", X)
    np.testing.assert_allclose(proba, runs["ddp"][0]["proba"], atol=1e-7)


def test_bf16_trains_under_autocast_and_predicts_in_float32(tmp_path):
    (run,) = launch(tmp_path / "bf16", 1, batch_size=8, precision="bf16")
    assert run["train_dtypes"].tolist() == ["torch.bfloat16"]
    assert run["valid_dtypes"].tolist() == ["torch.bfloat16"]
    assert run["predict_dtypes"].tolist() == ["torch.float32"]  # the unwrapped network
    assert np.isfinite(run["valid_loss"]).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_a_gpu_bf16_trains_there_and_the_model_loads_without_one(tmp_path, predict_without_gpu):
    (run,) = launch(tmp_path / "gpu", 1, batch_size=8, precision="bf16", device="auto")
    assert run["train_devices"].tolist() == ["cuda"]
    assert run["train_dtypes"].tolist() == ["torch.bfloat16"]
    assert run["predict_dtypes"].tolist() == ["torch.float32"]
    proba = predict_without_gpu(tmp_path / "gpu" / "model.joblib", ddp_worker.data()[0])
    np.testing.assert_allclose(proba, run["proba"], atol=1e-5)


@pytest.fixture
def phantoms():
    return make_synthetic_mri(48, image_size=16, random_state=0)


def small(**params):
    params = {"max_epochs": 2, "batch_size": 8, "random_state": 0, "device": "cpu", **params}
    return CNNClassifier(module__hidden=8, **params)


def test_in_one_process_it_is_reproducible_picklable_and_verbose_once(phantoms, capsys):
    X, y = phantoms
    params = {"accelerate": True, "keep_best": True, "augment": {"horizontal_flip": 0.5}}
    first = small(**params, verbose=1).fit(X, y)
    table = capsys.readouterr().out
    epochs = [line.split()[0] for line in table.splitlines() if line.split()[:1] in (["1"], ["2"])]
    assert table.count("valid_loss") == 1 and epochs == ["1", "2"]  # one table, one row an epoch
    second = small(**params).fit(X, y)
    assert capsys.readouterr().out == ""  # verbose=0 prints nothing, whatever the sink
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    assert first.net_.accelerator is None and first.get_params()["accelerate"] is True
    loaded = pickle.loads(pickle.dumps(first))
    np.testing.assert_array_equal(loaded.predict_proba(X), first.predict_proba(X))


def test_the_lr_schedule_steps_with_accelerate_as_without(phantoms):
    # skorch's own preparation runs (its LR schedulers included); only modules without
    # trainable weights (the loss, the augmentation) stay unwrapped
    X, y = phantoms
    params = {"lr_schedule": "cosine", "max_epochs": 3, "train_split": None}
    plain, accelerated = small(**params).fit(X, y), small(accelerate=True, **params).fit(X, y)
    final = [net.net_.optimizer_.param_groups[0]["lr"] for net in (plain, accelerated)]
    assert final[0] == pytest.approx(final[1]) and final[0] < plain.lr


def test_the_precision_is_one_per_process(phantoms):
    X, y = phantoms
    small(accelerate=True).fit(X, y)  # this process: accelerate with full precision
    with pytest.raises(ValueError, match=r"one mixed precision .* per Python process"):
        small(accelerate={"mixed_precision": "bf16"}).fit(X, y)


@pytest.mark.parametrize(
    ("params", "error", "match"),
    [
        ({"accelerate": "yes"}, TypeError, "'accelerate' parameter of CNNClassifier"),
        ({"accelerate": {"gradient_accumulation_steps": 2}}, ValueError, "mixed_precision"),
        ({"accelerate": True, "device": "cuda"}, ValueError, "launcher chooses the device"),
    ],
)
def test_bad_accelerate_settings_are_refused(phantoms, params, error, match):
    X, y = phantoms
    with pytest.raises(error, match=match):
        small(**params).fit(X, y)


def test_missing_accelerate_says_what_to_install(phantoms, monkeypatch):
    X, y = phantoms
    monkeypatch.setitem(sys.modules, "accelerate", None)
    with pytest.raises(ImportError, match="pip install accelerate"):
        small(accelerate=True).fit(X, y)


@pytest.mark.parametrize(("n", "batch_size", "shards"), [(41, 4, 2), (10, 4, 3), (2, 8, 3)])
def test_shards_cover_every_sample_in_equal_steps(n, batch_size, shards):
    X = torch.arange(100, dtype=torch.float32)[:, None] * 10
    y = torch.arange(100)
    subset = Subset(Dataset(X, y), list(range(100 - n, 100)))
    iterators = [
        TensorBatches(
            subset, batch_size, shuffle=True, num_shards=shards, shard_index=index,
            generator=torch.Generator().manual_seed(3),
        )
        for index in range(shards)
    ]  # fmt: skip
    batches = [list(iterator) for iterator in iterators]
    lengths = {len(iterator) for iterator in iterators}
    assert lengths == {len(b) for b in batches} and len(lengths) == 1  # same number of steps
    for step in zip(*batches, strict=True):
        assert len({len(yb) for _, yb in step}) == 1  # same batch size in every process
        assert all(len(yb) <= batch_size for _, yb in step)
        for xb, yb in step:
            np.testing.assert_array_equal(xb[:, 0].numpy(), yb.numpy() * 10)
    seen = [int(v) for b in batches for _, yb in b for v in yb]
    padded = -(-n // shards) * shards
    assert len(seen) == padded and set(seen) == set(range(100 - n, 100))  # wrap-around padding


def test_a_training_set_that_fits_moves_to_the_device_once_for_every_epoch(monkeypatch):
    """Batches are then sliced on the device; "meta" stands in for a GPU here."""
    from sklearn_braintumor.classifiers import _data

    X, y = torch.zeros(10, 1, 4, 4), torch.arange(10)
    dataset = Dataset(X, y)
    monkeypatch.setattr(_data, "free_device_bytes", lambda device: 10**9)
    first = TensorBatches(Subset(dataset, list(range(8))), 4, device="meta")
    second = TensorBatches(dataset, 4, device="meta")  # the next epoch: the same copy
    assert first.X.device.type == "meta" and first.X is second.X and first.y is second.y
    assert [xb.device.type for xb, _ in first] == ["meta", "meta"]
    assert [len(yb) for _, yb in first] == [4, 4]
    monkeypatch.setattr(_data, "free_device_bytes", lambda device: 4 * X.nelement() * 3)
    assert TensorBatches(Dataset(X, y), 4, device="meta").X is X  # over a quarter: per batch
    assert TensorBatches(Dataset(X, y), 4, device="cpu").X is X
    assert TensorBatches(Dataset(X, y), 4).X is X


def test_paths_train_like_images_in_memory(tmp_path):
    from PIL import Image
    from sklearn.pipeline import make_pipeline

    from sklearn_braintumor.preprocessing import ImageReader

    X, y = make_synthetic_mri(40, image_size=16, random_state=1)
    paths = []
    for i, image in enumerate(X):
        Image.fromarray(image).save(tmp_path / f"{i}.png")
        paths.append(str(tmp_path / f"{i}.png"))
    from_paths = small(accelerate=True, reader=make_pipeline(ImageReader())).fit(paths, y)
    in_memory = small(accelerate=True).fit(X, y)
    np.testing.assert_array_equal(from_paths.predict_proba(paths), in_memory.predict_proba(X))
