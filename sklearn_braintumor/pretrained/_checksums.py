"""SHA-256 of each shipped model file, recorded in code when the file was built.

Written by ``tools/build_pretrained.py``. The digest lives here, not in the
JSON card beside the model, so that editing the two data files together does
not make a changed model pass: :func:`load_pretrained` refuses any file whose
bytes differ from these. It guards against damaged or replaced model files;
someone who can edit the package's Python code can change anything anyway.
"""

SHA256 = {
    "4class": "9014f3e219eae8db27661e7eec05debe045d8e6d4f3ae242fa8df51b4664a7c2",
    "binary": "4f0b6152b40e014755be846fcce10db90259aea5f56f148589885ea5589e655c",
}
