"""The gallery's order: the embedded sample first, then the showcases, then checks and controls."""

ORDER = [
    "plot_embedded_sample.py",
    "plot_grad_cam.py",
    "plot_cnn_smote_pipeline.py",
    "plot_cnn_grid_search.py",
    "plot_leakage_audit.py",
    "plot_glcm_smote_pipeline.py",
]


class ExampleOrder:
    """sphinx-gallery's ``within_subsection_order`` key: position in ``ORDER``, then name."""

    def __init__(self, src_dir: str) -> None:
        self.src_dir = src_dir

    def __call__(self, filename: str) -> tuple[int, str]:
        """Return the sort key of ``filename``."""
        return (ORDER.index(filename) if filename in ORDER else len(ORDER), filename)

    def __repr__(self) -> str:
        return "ExampleOrder"
