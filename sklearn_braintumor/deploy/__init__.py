"""Using fitted models: predicting a folder of scans to a CSV, exporting a network."""

from ._predict import predict_folder

__all__ = ["export_model", "predict_folder"]


def __getattr__(name: str):
    # export_model needs torch.onnx and friends: imported on first use
    if name == "export_model":
        from ._export import export_model

        return export_model
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
