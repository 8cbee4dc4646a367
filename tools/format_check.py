r"""How a saved model's decisions move when the official Testing scans change format.

Scans from another collection differ from the training ones in more than the
lesion: their resolution, compression, framing, crop, grey levels. This check
applies one such change at a time to every image of the 4-class set's official
Testing split and reports, per model and change, the share of tumour scans
still called a tumour, the share of ``notumor`` scans still called
``notumor``, and the ROC AUC of p(no tumour) between the two: which way a
change pushes the model, and whether it still separates them::

    OMP_NUM_THREADS=1 python3 tools/format_check.py --data FOUR_CLASS \
        --model sklearn_braintumor/pretrained/models/4class.btm --out format.jsonl

About two minutes per model on one thread of a 2-core x86 CPU.
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter
from sklearn.metrics import roc_auc_score

from sklearn_braintumor.classifiers._tumor_first import decide
from sklearn_braintumor.experiments import load_experiment_data
from sklearn_braintumor.experiments._data import is_negative
from sklearn_braintumor.utils import load


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality)
    return np.asarray(Image.open(buffer))


def _downscale(image: np.ndarray, width: int) -> np.ndarray:
    height = image.shape[0] * width // image.shape[1]
    return np.asarray(Image.fromarray(image).resize((width, height), Image.BILINEAR))


def _pad(image: np.ndarray, share: float) -> np.ndarray:
    p = int(share * max(image.shape[:2]))
    return np.pad(image, [(p, p), (p, p)] + [(0, 0)] * (image.ndim - 2))


def _frame(image: np.ndarray, width: int = 3) -> np.ndarray:
    framed = image.copy()
    framed[:width], framed[-width:], framed[:, :width], framed[:, -width:] = 255, 255, 255, 255
    return framed


def _text(image: np.ndarray) -> np.ndarray:
    canvas = Image.fromarray(image).copy()
    draw, white = ImageDraw.Draw(canvas), 255 if image.ndim == 2 else (255, 255, 255)
    draw.text((5, 5), "L  SE 4500/102  R", fill=white)
    draw.text((5, image.shape[0] - 15), "3.0T  Ax T2", fill=white)
    return np.asarray(canvas)


def _gamma(image: np.ndarray, gamma: float) -> np.ndarray:
    return (255 * (image / 255.0) ** gamma).astype(np.uint8)


def _blur(image: np.ndarray, sigma: float) -> np.ndarray:
    return np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(sigma)))


def _noise(image: np.ndarray, std: float = 8.0) -> np.ndarray:
    noisy = image + np.random.default_rng(0).normal(0, std, image.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _tight_crop(image: np.ndarray) -> np.ndarray:
    """Cut an eighth off each side of the head's box: a slice cropped inside the skull."""
    rows, cols = np.nonzero((image if image.ndim == 2 else image.mean(-1)) > 30)
    if len(rows) == 0:
        return image
    top, bottom, left, right = rows.min(), rows.max(), cols.min(), cols.max()
    dh, dw = (bottom - top) // 8, (right - left) // 8
    return image[top + dh : bottom - dh, left + dw : right - dw]


CHANGES = {
    "identity": lambda a: a,
    "JPEG quality 20": lambda a: _jpeg(a, 20),
    "downscaled to 96 px wide": lambda a: _downscale(a, 96),
    "black margin 30 %": lambda a: _pad(a, 0.3),
    "white 3 px frame": _frame,
    "scanner text": _text,
    "gamma 0.6": lambda a: _gamma(a, 0.6),
    "gamma 1.6": lambda a: _gamma(a, 1.6),
    "Gaussian blur 1.5 px": lambda a: _blur(a, 1.5),
    "background lifted to 40": lambda a: np.maximum(a, 40).astype(np.uint8),
    "Gaussian noise 8": _noise,
    "cropped inside the skull": _tight_crop,
    "rotated 90 degrees": lambda a: np.rot90(a).copy(),
    "inverted": lambda a: 255 - a,
}


def main() -> None:
    """Apply every change to Testing and score each model given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder with Training/, Testing/")
    parser.add_argument("--model", type=Path, action="append", required=True, help="a .btm file")
    parser.add_argument("--out", type=Path, required=True, help="JSON lines file to append to")
    args = parser.parse_args()
    experiment = load_experiment_data(args.data)
    test = np.flatnonzero(experiment.subset == "test")
    names = np.asarray(experiment.target_names)[experiment.target[test]]
    images = [np.asarray(experiment.images[i]) for i in test]
    tumour = np.array([not is_negative(name) for name in names])
    models = {path: load(path) for path in args.model}
    negatives = {path: next(c for c in m.classes_ if is_negative(c)) for path, m in models.items()}
    with args.out.open("a") as stream:
        for change, apply in CHANGES.items():
            changed = [apply(image) for image in images]  # once per change, for every model
            for path, model in models.items():
                _score(stream, path, model, negatives[path], change, changed, tumour)


def _score(stream, path: Path, model, negative, change: str, changed, tumour) -> None:
    """Score one model on one changed Testing set: print it and append a JSON line."""
    proba = model.predict_proba(changed)
    called = decide(model, proba)  # the model's own rule, without a second pass
    row = {
        "model": str(path),
        "change": change,
        "tumours_found": float(np.mean(called[tumour] != negative)),
        "notumor_kept": float(np.mean(called[~tumour] == negative)),
        "auc": float(roc_auc_score(tumour, -proba[:, list(model.classes_).index(negative)])),
    }
    print(
        f"{path.stem:12s} {change:26s} tumours found {100 * row['tumours_found']:5.1f}"
        f"  notumor kept {100 * row['notumor_kept']:5.1f}  AUC {row['auc']:.3f}",
        flush=True,
    )
    stream.write(json.dumps(row) + "\n")
    stream.flush()  # a stopped run keeps the rows it scored


if __name__ == "__main__":
    main()
