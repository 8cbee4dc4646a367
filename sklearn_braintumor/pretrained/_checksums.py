"""SHA-256 of each shipped model file, recorded in code when the file was built.

Written by ``tools/build_pretrained.py``. The digest lives here, not in the
JSON card beside the model, so that editing the two data files together does
not make a changed model pass: :func:`load_pretrained` refuses any file whose
bytes differ from these. It guards against damaged or replaced model files;
someone who can edit the package's Python code can change anything anyway.
"""

SHA256 = {
    "4class": "27d0486d036d8f98fb2871cdf8002f81ec36c525e61942c1052009a38b29a9f0",
    "binary": "63f3b6c10f38010232c6fc93b7bb71c1c58b7e3ad14de8e99e2ad37ced325a40",
}
