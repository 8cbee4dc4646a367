"""The public datasets that :func:`fetch_dataset` knows how to download."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DatasetInfo:
    """How to download, verify and load one public dataset.

    Attributes
    ----------
    name : str
        Registry key, also the cache folder name.
    title : str
        Human-readable name.
    url : str
        Direct download URL of a zip archive.
    sha256 : str or None
        SHA-256 of the archive when known in advance; ``None`` means it is
        recorded at first download and every later load is checked against
        that record (trust on first use).
    kaggle_handle : str or None
        Kaggle handle, used through ``kagglehub`` when that package is
        installed (it handles Kaggle credentials and its own resumable
        downloads).
    layout : {"split_folders", "folders", "figshare_mat"}
        How the extracted files are organised.
    classes : tuple of str or None
        For ``"folders"``, the class folders to load (others are ignored).
    licence : str
        Licence of the data.
    citation : str
        What to cite when using it.
    description : str
        One paragraph for ``DESCR`` and ``braintumor datasets``.

    Examples
    --------
    >>> from sklearn_braintumor.datasets import DATASETS
    >>> info = DATASETS["brain-tumor-mri-4class"]
    >>> info.layout
    'split_folders'
    """

    name: str
    title: str
    url: str
    sha256: str | None
    kaggle_handle: str | None
    layout: str
    licence: str
    citation: str
    description: str
    classes: tuple[str, ...] | None = None


DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo(
            name="brain-tumor-mri-4class",
            title="Brain Tumor MRI Dataset (Nickparvar), 4 classes, version 1",
            url=(
                "https://www.kaggle.com/api/v1/datasets/download/"
                "masoudnickparvar/brain-tumor-mri-dataset?datasetVersionNumber=1"
            ),
            sha256=None,
            kaggle_handle="masoudnickparvar/brain-tumor-mri-dataset/versions/1",
            layout="split_folders",
            licence="CC0 1.0 (compilation); figshare part CC BY 4.0, SARTAJ part MIT",
            citation=(
                "Msoud Nickparvar (2021). Brain Tumor MRI Dataset. Kaggle. "
                "doi:10.34740/KAGGLE/DSV/2645886. Upstream: Cheng et al. (2015) "
                "figshare doi:10.6084/m9.figshare.1512427; SARTAJ Bhuvaji et al. "
                "(2020) Brain Tumor Classification (MRI), Kaggle; Br35H, Hamada "
                "(2020) Br35H :: Brain Tumor Detection 2020, Kaggle."
            ),
            description=(
                "7023 brain MRI slices (glioma, meningioma, notumor, pituitary) in "
                "the official Training/Testing split (5712 / 1311); images of "
                "various sizes. Exact and near duplicates occur within and across "
                "the split: group them before trusting a test score."
            ),
        ),
        DatasetInfo(
            name="figshare-cheng-3064",
            title="Figshare brain tumor dataset (Cheng et al.), 3064 T1-CE slices",
            url="https://figshare.com/ndownloader/articles/1512427/versions/5",
            sha256=None,
            kaggle_handle=None,
            layout="figshare_mat",
            licence="CC BY 4.0",
            citation=(
                "Cheng, J. et al. (2015). Enhanced Performance of Brain Tumor "
                "Classification via Tumor Region Augmentation and Partition. PLoS "
                "ONE 10(10): e0140381. Data: doi:10.6084/m9.figshare.1512427.v5."
            ),
            description=(
                "3064 T1-weighted contrast-enhanced slices from 233 patients "
                "(glioma 1426, meningioma 708, pituitary 930), 512x512 int16 in "
                "MATLAB v7.3 files with patient IDs, so cross-validation can be "
                "grouped by patient (``groups``); ``cv_fold`` holds the authors' "
                "5-fold assignment."
            ),
        ),
        DatasetInfo(
            name="brain-mri-yes-no",
            title="Brain MRI Images for Brain Tumor Detection (yes/no), 253 images",
            url=(
                "https://www.kaggle.com/api/v1/datasets/download/"
                "navoneel/brain-mri-images-for-brain-tumor-detection"
                "?datasetVersionNumber=1"
            ),
            sha256=None,
            kaggle_handle="navoneel/brain-mri-images-for-brain-tumor-detection/versions/1",
            layout="folders",
            classes=("no", "yes"),
            licence="not stated by the publisher (use for research benchmarks only)",
            citation=(
                "Navoneel Chakrabarty (2019). Brain MRI Images for Brain Tumor Detection. Kaggle."
            ),
            description=(
                "253 brain MRI images, 155 with a tumour (yes) and 98 without (no); "
                "mixed sizes and formats."
            ),
        ),
    )
}
