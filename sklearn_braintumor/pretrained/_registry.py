"""What the package ships: one entry per pretrained model, and its measured card."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

MODELS_DIR = Path(__file__).parent / "models"
TRAINING_DATA = (
    "the official Training split of the Brain Tumor MRI Dataset (Masoud Nickparvar, Kaggle, "
    "version 1, DOI 10.34740/KAGGLE/DSV/2645886; a copy of 5,708 images resized to 224 px): "
    "glioma, meningioma, pituitary, notumor. The compilation is CC0 1.0, so a model trained "
    "on it may be redistributed; it merges figshare (Cheng et al. 2015, CC BY 4.0), SARTAJ "
    "(MIT) and Br35H, which publications should cite"
)
NOT_A_DEVICE = (
    "Research and teaching use only. Not a medical device; not for diagnosis or for any "
    "decision about a patient."
)


@dataclass(frozen=True)
class Member:
    """One network of an averaged model: its recipe run with this seed and these settings.

    Attributes
    ----------
    seed : int
    settings : tuple of (str, object) pairs
        Settings of the recipe's quick profile that differ for this network,
        e.g. ``(("lesions", "mass"),)``.
    """

    seed: int
    settings: tuple[tuple[str, object], ...] = ()

    @property
    def name(self) -> str:
        """``seed-0``, ``lesions-mass-seed-1``, ...: the member's file stem when built."""
        return "-".join([f"{k}-{v}" for k, v in self.settings] + [f"seed-{self.seed}"])


@dataclass(frozen=True)
class PretrainedSpec:
    """A shipped model: how it is built and what to say of it (the measured part is in JSON).

    Attributes
    ----------
    name : str
        What :func:`load_pretrained` and ``braintumor predict --model`` take.
    recipe : str
        The :mod:`sklearn_braintumor.experiments` recipe that trains it.
    summary : str
        One line for ``braintumor models``.
    intended_use : str
    weak_spots : tuple of str
    stages : tuple of str
        For a model that combines shipped models instead of training its own
        network: their names, the screen first (see
        :class:`~sklearn_braintumor.classifiers.TwoStageClassifier`). Such a
        model has no file of its own, only its measured card.
    members : tuple of Member
        Networks trained apart whose probabilities the model averages
        (:func:`~sklearn_braintumor.classifiers.average_networks`); empty: one
        network, the recipe with seed 0.
    """

    name: str
    recipe: str
    summary: str
    intended_use: str
    weak_spots: tuple[str, ...] = field(default_factory=tuple)
    stages: tuple[str, ...] = ()
    members: tuple[Member, ...] = ()

    @property
    def weights_file(self) -> Path:
        """The model file inside the package."""
        return MODELS_DIR / f"{self.name}.btm"

    @property
    def card_file(self) -> Path:
        """The measured card (checksum, figures, commands) inside the package."""
        return MODELS_DIR / f"{self.name}.json"

    def card(self) -> dict:
        """Return the measured card, or raise FileNotFoundError saying how to build it."""
        if not self.card_file.is_file():
            raise FileNotFoundError(
                f"the pretrained model {self.name!r} is not in this installation "
                f"({self.card_file.name} is missing); reinstall sklearn-braintumor, or build it "
                "from a folder with Training/ and Testing/ of the 4-class set: "
                f"python3 tools/build_pretrained.py --data FOLDER --models {self.name}"
            )
        return json.loads(self.card_file.read_text(encoding="utf-8"))


#: a member's setting: a copy of each healthy training scan with a synthetic mass (SyntheticLesions)
MASS = (("lesions", "mass"),)

_COMMON_WEAK_SPOTS = (
    "Trained on one public collection whose classes came from different sources: on scans "
    "from another collection it misses many tumours (the 'held-out yes/no set' row), far "
    "more than its in-distribution accuracy suggests. That row is itself optimistic: on 785 "
    "tumour slices of a third public collection, checked independently, earlier builds of "
    "these models found about 16 points fewer tumours than their yes/no row said (4class: "
    "69.0 % against 85.3 %; binary: 71.3 % against 87.5 %).",
    "Its 'no tumour' is one collection's look: healthy scans that are blurred, of lower "
    "resolution, cropped inside the skull or rotated are often called tumours (of the "
    "official Testing healthy scans, 73-87 % are still called healthy once blurred by 1.5 px, "
    "46 % once cropped inside the skull, 18-39 % once rotated by 90 degrees; "
    "tools/format_check.py in the repository). "
    "Give it whole, upright, sharp slices on a dark background.",
    "Axial, coronal and sagittal 2D slices in 8-bit grayscale (JPEG/PNG exports) only; no "
    "DICOM, no 3D volumes, no intensity calibration across scanners.",
    "Only three tumour types; any other finding (metastasis, stroke, artefact) is forced into "
    "one of the classes.",
    "Images that are not brain MRI slices (photographs, pages, drawings, noise, blanks) get no "
    "prediction (the `ood` column), but a grey photograph with a dark background can pass the "
    "check; a real slice of another collection is not flagged, only given a high `shift`, and "
    "a low shift is no proof that a prediction is right.",
)

PRETRAINED = {
    spec.name: spec
    for spec in (
        PretrainedSpec(
            name="4class-screened",
            recipe="recommended",
            summary="glioma / meningioma / pituitary / notumor: the binary model decides "
            "tumour / no tumour, the 4class model names the tumour type",
            intended_use="Predicting a folder of 2D brain MRI slices in research and teaching "
            "when missing a tumour costs more than a false alarm: of the shipped models, it "
            "finds the most tumours in scans of another collection. Fine-tune or export its "
            "two stages (the 4class and binary models) separately.",
            weak_spots=_COMMON_WEAK_SPOTS,
            stages=("binary", "4class"),
        ),
        PretrainedSpec(
            name="4class",
            recipe="recommended-4class",
            summary="glioma / meningioma / pituitary / notumor, GBMNet at 64 px with flip "
            "test-time augmentation and a tumour-first decision",
            intended_use="A baseline for research and teaching on 2D brain MRI slices: "
            "predicting a folder of scans, fine-tuning on one's own labelled scans, a "
            "reference to compare new models against.",
            weak_spots=_COMMON_WEAK_SPOTS,
        ),
        PretrainedSpec(
            name="binary",
            recipe="recommended-binary",
            summary="tumor / notumor: four networks of one recipe, trained apart on the "
            "4-class set's labels grouped (glioma, meningioma, pituitary -> tumor), with global "
            "max pooling, two of them also on healthy scans given a synthetic mass, their "
            "probabilities averaged",
            intended_use="Tumour / no-tumour screening experiments on 2D brain MRI slices in "
            "research and teaching; a starting point for fine-tuning on a yes/no collection.",
            weak_spots=_COMMON_WEAK_SPOTS,
            members=(Member(0), Member(1), Member(0, MASS), Member(1, MASS)),
        ),
    )
}
DEFAULT_MODEL = "4class-screened"
