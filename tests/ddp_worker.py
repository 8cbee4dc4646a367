"""Train one CNNClassifier with accelerate; run by tests/test_accelerate.py through torchrun.

Usage: python -m torch.distributed.run --nproc_per_node N ddp_worker.py OUT BATCH_SIZE
       [PRECISION [DEVICE]]

Every process writes OUT/rank{R}.npz (the ids of the training images its network saw, the
compute dtypes of training, validation and prediction, the device it trained on, the trained
weights, probabilities, validation losses) and rank 0 the classifier (``utils.save``).
"""

import sys
from pathlib import Path

import numpy as np
import torch
from accelerate import PartialState
from torch import nn

from sklearn_braintumor.classifiers import CNNClassifier
from sklearn_braintumor.utils import save


class IdNet(nn.Module):
    """A small CNN without batch norm or dropout that records what it computes on.

    Pixel (0, 0) of image i holds i / 1000, so the training ids can be read back.
    """

    def __init__(self, n_classes=2, in_channels=1):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
        )  # fmt: skip
        self.head = nn.Linear(16, n_classes)
        self.forget()

    def forget(self):
        self.seen, self.dtypes, self.devices = [], {True: set(), False: set()}, set()

    def forward(self, x):
        if self.training:
            self.seen.append(torch.round(x[:, 0, 0, 0] * 1000).long().tolist())
            self.devices.add(x.device.type)
        features = self.features(x)
        self.dtypes[self.training].add(str(features.dtype))
        return self.head(features.flatten(1))


def data():
    rng = np.random.default_rng(0)
    X = rng.random((51, 8, 8), dtype=np.float32)
    y = np.array(["tumour", "none"])[np.arange(51) % 2]
    X[y == "tumour", 2:6, 2:6] += 0.5
    X[:, 0, 0] = np.arange(51) / 1000
    return X, y


def main(out, batch_size, precision, device):
    X, y = data()
    clf = CNNClassifier(
        IdNet, batch_size=batch_size, max_epochs=4, lr=0.1, train_split=0.2, keep_best=True,
        lr_schedule="cosine", device=device, accelerate={"mixed_precision": precision},
        random_state=0, verbose=1, ood_rate=None,  # the guard's passes would count as validation
    ).fit(X, y)  # fmt: skip
    state = PartialState()
    seen, dtypes = clf.module_.seen, clf.module_.dtypes
    clf.module_.dtypes = {True: set(), False: set()}
    proba = clf.predict_proba(X)
    weights = {f"w_{k}": v.detach().cpu().numpy() for k, v in clf.module_.state_dict().items()}
    np.savez(
        out / f"rank{state.process_index}.npz",
        seen=np.array([i for batch in seen for i in batch]),
        batches=np.array([len(batch) for batch in seen]),
        proba=proba,
        train_dtypes=sorted(dtypes[True]),
        valid_dtypes=sorted(dtypes[False]),
        predict_dtypes=sorted(clf.module_.dtypes[False]),
        train_devices=sorted(clf.module_.devices),
        valid_loss=np.array(clf.history_[:, "valid_loss"]),
        valid_indices=clf.valid_indices_,
        processes=state.num_processes,
        **weights,
    )
    if state.is_main_process:
        clf.module_.forget()
        save(clf, out / "model.joblib", format="joblib")  # IdNet is a test class


if __name__ == "__main__":
    import ddp_worker  # so that the pickled model refers to ddp_worker.IdNet, not __main__

    torch.set_num_threads(1)
    precision = sys.argv[3] if len(sys.argv) > 3 else "no"
    device = sys.argv[4] if len(sys.argv) > 4 else "cpu"
    ddp_worker.main(Path(sys.argv[1]), int(sys.argv[2]), precision, device)
