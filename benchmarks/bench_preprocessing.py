"""Preprocessing throughput against reference implementations, every ratio from one run.

Usage: python benchmarks/bench_preprocessing.py [--n-glcm 300] [--rounds 3]

Images: the real 4-class Testing folder (1311 slices, 224x224) when
../shared/datasets is present, else 1311 synthetic 224x224 phantoms. OpenCV runs
on one thread (cv2.setNumThreads(1)) for both contenders. Each comparison
alternates the two contenders for --rounds rounds after one warm-up and prints
the median throughput of each and the median per-round time ratio.

1. BrainCrop vs the "crop brain contour" notebook recipe written below with
   OpenCV (blur 5, threshold 45, erode x2, dilate x2, largest external contour,
   extreme points). Box agreement is reported as IoU against the recipe's
   extreme-point box, and against the notebook's slice, which drops the last
   row and column.
2. GLCMFeatures vs a naive per-image scikit-image loop (graycomatrix then six
   graycoprops) at 256 levels; then the gain of quantising to 32 levels and of
   n_jobs=2.
3. Resize((64, 64)) vs skimage.transform.resize(anti_aliasing=True).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
from skimage.feature import graycomatrix, graycoprops
from skimage.transform import resize as sk_resize

from sklearn_braintumor.datasets import load_image_folder, make_synthetic_mri
from sklearn_braintumor.features import GLCMFeatures
from sklearn_braintumor.preprocessing import BrainCrop, Resize

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
ANGLES = [0, np.pi / 4, np.pi / 2, 3 * np.pi / 4]
PROPS = ["contrast", "dissimilarity", "homogeneity", "energy", "correlation", "ASM"]


def notebook_crop(gray):
    """The widely copied recipe; returns the crop and the extreme-point box."""
    blurred = cv2.GaussianBlur(gray, (5, 5), 0)
    mask = cv2.threshold(blurred, 45, 255, cv2.THRESH_BINARY)[1]
    mask = cv2.erode(mask, None, iterations=2)
    mask = cv2.dilate(mask, None, iterations=2)
    contours, _ = cv2.findContours(mask.copy(), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    c = max(contours, key=cv2.contourArea)
    ext_left = tuple(c[c[:, :, 0].argmin()][0])
    ext_right = tuple(c[c[:, :, 0].argmax()][0])
    ext_top = tuple(c[c[:, :, 1].argmin()][0])
    ext_bot = tuple(c[c[:, :, 1].argmax()][0])
    crop = gray[ext_top[1] : ext_bot[1], ext_left[0] : ext_right[0]]
    return crop, (ext_top[1], ext_bot[1] + 1, ext_left[0], ext_right[0] + 1)


def naive_glcm(images):
    rows = []
    for image in images:
        matrix = graycomatrix(image, [1], ANGLES, levels=256, symmetric=True, normed=True)
        rows.append(np.concatenate([graycoprops(matrix, p).ravel() for p in PROPS]))
    return np.asarray(rows)


def iou(a, b):
    top, bottom = max(a[0], b[0]), min(a[1], b[1])
    left, right = max(a[2], b[2]), min(a[3], b[3])
    inter = max(0, bottom - top) * max(0, right - left)
    area = lambda box: (box[1] - box[0]) * (box[3] - box[2])  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def compare(name_a, fn_a, name_b, fn_b, n, rounds):
    fn_a(), fn_b()  # warm-up
    times_a, times_b = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        fn_a()
        times_a.append(time.perf_counter() - start)
        start = time.perf_counter()
        fn_b()
        times_b.append(time.perf_counter() - start)
    ratio = statistics.median(b / a for a, b in zip(times_a, times_b, strict=True))
    rate_a, rate_b = n / statistics.median(times_a), n / statistics.median(times_b)
    print(f"  {name_a:<34} {rate_a:9.0f} img/s")
    print(f"  {name_b:<34} {rate_b:9.0f} img/s")
    print(f"  speed ratio {name_a} / {name_b}: {ratio:.2f}")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-glcm", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    cv2.setNumThreads(1)

    folder = SHARED / "brain-tumor-mri-4class" / "Testing"
    if folder.is_dir():
        images = load_image_folder(folder).images
        source = f"real: {folder} ({len(images)} images)"
    else:
        images = make_synthetic_mri(1311, image_size=224, random_state=0)[0]
        source = "synthetic phantoms (../shared not found)"
    n = len(images)
    print(f"images: {source}, shape {images.shape[1:]}, OpenCV threads: 1\n")

    print("1. BrainCrop vs the OpenCV notebook recipe")
    crop = BrainCrop(min_area=0)
    compare("BrainCrop", lambda: crop.fit_transform(images),
            "notebook recipe (OpenCV)", lambda: [notebook_crop(im) for im in images],
            n, args.rounds)  # fmt: skip
    ours, _ = crop.crop_boxes(images)
    recipe = [notebook_crop(image) for image in images]
    iou_points = np.array([iou(a, b[1]) for a, b in zip(ours, recipe, strict=True)])
    sliced = [(t, b - 1, lft, r - 1) for t, b, lft, r in (r[1] for r in recipe)]
    iou_slice = np.array([iou(a, b) for a, b in zip(ours, sliced, strict=True)])
    print(
        f"  IoU with the recipe's extreme-point box: >= 0.99 on "
        f"{(iou_points >= 0.99).mean():.1%} of images (min {iou_points.min():.3f})"
    )
    print(
        f"  IoU with the notebook's slice (drops last row/col): >= 0.99 on "
        f"{(iou_slice >= 0.99).mean():.1%} (median {np.median(iou_slice):.3f})"
    )
    fallback = BrainCrop().fit(images).n_fallback_
    print(f"  BrainCrop() default guard keeps {fallback} of {n} images whole\n")

    subset = images[: args.n_glcm]
    print(f"2. GLCM features, {len(subset)} images, 1 distance x 4 angles x 6 properties")
    full = GLCMFeatures(levels=256)
    np.testing.assert_allclose(full.fit_transform(subset[:5]), naive_glcm(subset[:5]))
    compare("GLCMFeatures(levels=256)", lambda: full.fit_transform(subset),
            "naive scikit-image loop (256)", lambda: naive_glcm(subset),
            len(subset), args.rounds)  # fmt: skip
    compare("GLCMFeatures(levels=32)", lambda: GLCMFeatures(levels=32).fit_transform(subset),
            "naive scikit-image loop (256)", lambda: naive_glcm(subset),
            len(subset), args.rounds)  # fmt: skip
    compare("GLCMFeatures(levels=32, n_jobs=2)",
            lambda: GLCMFeatures(levels=32, n_jobs=2).fit_transform(images),
            "GLCMFeatures(levels=32)", lambda: GLCMFeatures(levels=32).fit_transform(images),
            n, args.rounds)  # fmt: skip
    print()

    print("3. Resize to 64x64 with anti-aliasing")
    resize = Resize((64, 64))
    reference = np.stack([sk_resize(im, (64, 64), anti_aliasing=True, preserve_range=True)
                          for im in images[:100]])  # fmt: skip
    diff = np.abs(resize.fit_transform(images[:100]) - reference).mean()
    compare("Resize((64, 64))", lambda: resize.fit_transform(images),
            "skimage resize(anti_aliasing=True)",
            lambda: [sk_resize(im, (64, 64), anti_aliasing=True) for im in images],
            n, args.rounds)  # fmt: skip
    print(f"  mean absolute difference from skimage: {diff:.2f} gray levels (of 255)")


if __name__ == "__main__":
    main()
