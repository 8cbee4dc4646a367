"""SHA-256 of each shipped model file, recorded in code when the file was built.

Written by ``tools/build_pretrained.py``. The digest lives here, not in the
JSON card beside the model, so that editing the two data files together does
not make a changed model pass: :func:`load_pretrained` refuses any file whose
bytes differ from these. It guards against damaged or replaced model files;
someone who can edit the package's Python code can change anything anyway.
"""

SHA256 = {
    "4class": "27d0486d036d8f98fb2871cdf8002f81ec36c525e61942c1052009a38b29a9f0",
    "binary": "1e5ef3dcb14d97b9d0b94dfcef52669059790b62966541025eac7ca562d300f3",
}
