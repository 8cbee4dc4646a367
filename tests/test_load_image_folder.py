import hashlib
import io

import numpy as np
import pytest
from PIL import Image

from sklearn_braintumor.datasets import decode_image, load_image_folder
from sklearn_braintumor.exceptions import ImageReadError


def _gradient(height=30, width=40):
    return (np.add.outer(np.arange(height) * 3, np.arange(width) * 2) % 256).astype(np.uint8)


def _save(path, image, **kwargs):
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, **kwargs)
    return path


def _jpeg_bytes(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


@pytest.fixture
def tree(tmp_path):
    """A class-per-folder tree with every kind of file the loader must handle."""
    root = tmp_path / "Training"
    gray = _gradient()
    rgb = np.stack([gray, 255 - gray, gray // 2], axis=-1)
    _save(root / "glioma" / "a scan with spaces.png", Image.fromarray(rgb))
    _save(root / "glioma" / "b.JPG", Image.fromarray(gray))
    _save(root / "glioma" / "c.bmp", Image.fromarray(gray))
    _save(root / "glioma" / "d.tif", Image.fromarray(gray))
    _save(root / "glioma" / "nested" / "e.jpeg", Image.fromarray(gray))
    _save(root / "glioma" / ".hidden.jpg", Image.fromarray(gray))
    _save(root / "glioma" / ".ipynb_checkpoints" / "f.jpg", Image.fromarray(gray))
    (root / "glioma" / "notes.txt").write_text("not an image")
    _save(root / "meningioma" / "g.png", Image.fromarray(gray))
    (root / "notumor").mkdir()
    _save(root / ".trash" / "h.png", Image.fromarray(gray))
    _save(root / "__MACOSX" / "i.png", Image.fromarray(gray))
    return root


def test_layout_order_targets_and_skips(tree):
    with pytest.warns(UserWarning, match="notumor.*contains no image files"):
        data = load_image_folder(tree)
    assert data.target_names == ["glioma", "meningioma", "notumor"]
    names = [name.split("Training/")[1] for name in data.filenames]
    assert names == [
        "glioma/a scan with spaces.png",
        "glioma/b.JPG",
        "glioma/c.bmp",
        "glioma/d.tif",
        "glioma/nested/e.jpeg",
        "meningioma/g.png",
    ]
    assert data.target.tolist() == [0, 0, 0, 0, 0, 1]
    assert data.target.dtype == np.int64
    assert data.images.shape == (6, 30, 40)
    assert data.images.dtype == np.uint8
    assert "1 non-image file(s) ignored" in data.DESCR
    assert "notumor: 0" in data.DESCR
    for filename, digest in zip(data.filenames, data.sha256, strict=True):
        with open(filename, "rb") as handle:
            assert hashlib.sha256(handle.read()).hexdigest() == digest


def test_grayscale_values_match_luma(tree):
    with pytest.warns(UserWarning):
        data = load_image_folder(tree)
    gray = _gradient()
    rgb = np.stack([gray, 255 - gray, gray // 2], axis=-1).astype(np.float64)
    luma = rgb @ np.array([299, 587, 114]) / 1000
    np.testing.assert_allclose(data.images[0], luma, atol=1)
    np.testing.assert_array_equal(data.images[2], gray)  # BMP, lossless
    np.testing.assert_array_equal(data.images[3], gray)  # TIFF, lossless


def test_deterministic_and_return_X_y(tree):
    with pytest.warns(UserWarning):
        first = load_image_folder(tree)
    with pytest.warns(UserWarning):
        X, y = load_image_folder(tree, return_X_y=True)
    np.testing.assert_array_equal(first.images, X)
    np.testing.assert_array_equal(first.target, y)


def test_classes_select_and_order(tree):
    data = load_image_folder(tree, classes=["meningioma", "glioma"])
    assert data.target_names == ["meningioma", "glioma"]
    assert data.target.tolist() == [0, 1, 1, 1, 1, 1]
    with pytest.raises(ValueError, match=r"\['tumour'\] not found.*available"):
        load_image_folder(tree, classes=["glioma", "tumour"])
    with pytest.raises(TypeError, match="'classes' parameter of load_image_folder"):
        load_image_folder(tree, classes="glioma")
    with pytest.raises(ValueError, match="duplicates"):
        load_image_folder(tree, classes=["glioma", "glioma"])


def test_color_modes(tmp_path):
    gray = _gradient()
    rgba = np.dstack([gray, gray, gray, np.full_like(gray, 128)])
    _save(tmp_path / "x" / "a.png", Image.fromarray(rgba, mode="RGBA"))
    gray_img = load_image_folder(tmp_path, color_mode="grayscale").images[0]
    rgb_img = load_image_folder(tmp_path, color_mode="rgb").images[0]
    raw = load_image_folder(tmp_path, color_mode="unchanged").images[0]
    assert gray_img.shape == (30, 40)
    assert rgb_img.shape == (30, 40, 3)
    np.testing.assert_array_equal(raw, rgba)
    # Alpha is composited over black: half-transparent halves the intensity.
    np.testing.assert_allclose(rgb_img[..., 0], gray * 128.0 / 255, atol=1)
    np.testing.assert_allclose(gray_img, gray * 128.0 / 255, atol=1)
    with pytest.raises(ValueError, match="color_mode"):
        load_image_folder(tmp_path, color_mode="bgr")


def test_sixteen_bit_png_is_rescaled(tmp_path):
    values = (np.arange(30 * 40).reshape(30, 40) * 3).astype(np.uint16)  # 0..3597
    _save(tmp_path / "x" / "deep.png", Image.fromarray(values))
    assert Image.open(tmp_path / "x" / "deep.png").mode.startswith("I")
    image = load_image_folder(tmp_path).images[0]
    expected = np.rint(values.astype(np.float64) * 255 / values.max()).astype(np.uint8)
    np.testing.assert_array_equal(image, expected)
    assert image.max() == 255 and image.min() == 0


def test_float_tiff_rescaled_and_nan_rejected(tmp_path):
    values = np.linspace(-1.0, 3.0, 30 * 40, dtype=np.float32).reshape(30, 40)
    _save(tmp_path / "x" / "f.tif", Image.fromarray(values, mode="F"))
    image = load_image_folder(tmp_path).images[0]
    assert image[0, 0] == 0 and image[-1, -1] == 255
    values[3, 3] = np.nan
    _save(tmp_path / "x" / "f.tif", Image.fromarray(values, mode="F"))
    with pytest.raises(ImageReadError, match=r"f\.tif.*NaN"):
        load_image_folder(tmp_path)


def test_cmyk_palette_and_bilevel(tmp_path):
    cmyk = np.zeros((8, 8, 4), dtype=np.uint8)
    cmyk[:, :4, 0] = 255  # cyan on the left, white on the right
    _save(tmp_path / "x" / "cmyk.tif", Image.fromarray(cmyk, mode="CMYK"))
    _save(tmp_path / "x" / "cmyk.jpg", Image.fromarray(cmyk, mode="CMYK"), quality=95)
    palette = Image.new("P", (8, 8), 1)
    palette.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    _save(tmp_path / "x" / "palette.png", palette)
    _save(tmp_path / "x" / "z_bilevel.png", Image.new("1", (8, 8), 1))
    data = load_image_folder(tmp_path, color_mode="rgb")
    names = [f.rsplit("/", 1)[1] for f in data.filenames]
    images = dict(zip(names, data.images, strict=True))
    np.testing.assert_array_equal(images["cmyk.tif"][0, 0], [0, 255, 255])
    np.testing.assert_array_equal(images["cmyk.tif"][0, 7], [255, 255, 255])
    np.testing.assert_allclose(images["cmyk.jpg"][0, 0], [0, 255, 255], atol=12)
    np.testing.assert_array_equal(images["palette.png"][0, 0], [255, 0, 0])
    np.testing.assert_array_equal(images["z_bilevel.png"], 255)
    gray = load_image_folder(tmp_path).images
    assert gray[names.index("palette.png")][0, 0] == 76  # luma of pure red
    raw = load_image_folder(tmp_path, color_mode="unchanged").images
    assert raw[names.index("cmyk.tif")].shape == (8, 8, 4)


def test_palette_transparency_becomes_black(tmp_path):
    palette = Image.new("P", (4, 4), 1)
    palette.putpalette([0, 0, 0, 200, 200, 200] + [0] * 762)
    palette.info["transparency"] = 1
    _save(tmp_path / "x" / "t.png", palette, transparency=1)
    assert load_image_folder(tmp_path).images[0].max() == 0
    assert load_image_folder(tmp_path, color_mode="unchanged").images[0].shape == (
        4,
        4,
        4,
    )


def test_exif_orientation_applied(tmp_path):
    gray = _gradient(20, 50)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    _save(tmp_path / "x" / "phone.jpg", Image.fromarray(gray), exif=exif)
    assert load_image_folder(tmp_path).images.shape == (1, 50, 20)


def test_mixed_sizes_give_object_array(tmp_path):
    _save(tmp_path / "a" / "small.png", Image.fromarray(_gradient(10, 12)))
    _save(tmp_path / "b" / "large.png", Image.fromarray(_gradient(20, 16)))
    data = load_image_folder(tmp_path)
    assert data.images.dtype == object
    assert [im.shape for im in data.images] == [(10, 12), (20, 16)]
    assert all(im.dtype == np.uint8 for im in data.images)
    assert "mixed shapes" in data.DESCR


def test_truncated_and_corrupt_files(tmp_path):
    good = _jpeg_bytes(_gradient())
    _save(tmp_path / "a" / "good.jpg", Image.fromarray(_gradient()), quality=95)
    (tmp_path / "a" / "truncated.jpg").write_bytes(good[: len(good) // 2])
    (tmp_path / "b" / "garbage.png").parent.mkdir()
    (tmp_path / "b" / "garbage.png").write_bytes(b"this is not a png")
    _save(tmp_path / "b" / "ok.png", Image.fromarray(_gradient()))

    with pytest.raises(ImageReadError, match=r"truncated\.jpg") as info:
        load_image_folder(tmp_path)
    assert info.value.path.endswith("truncated.jpg")

    with pytest.warns(UserWarning, match="skipped 2 unreadable") as record:
        data = load_image_folder(tmp_path, on_error="warn")
    assert len(record) == 1
    message = str(record[0].message)
    assert "truncated.jpg" in message and "garbage.png" in message
    assert [f.rsplit("/", 1)[1] for f in data.filenames] == ["good.jpg", "ok.png"]
    assert data.target.tolist() == [0, 1]
    assert "2 unreadable file(s) skipped" in data.DESCR


def test_bad_arguments_and_empty_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_image_folder(tmp_path / "missing")
    with pytest.raises(ValueError, match="no class subfolders"):
        load_image_folder(tmp_path)
    (tmp_path / "empty").mkdir()
    with (
        pytest.warns(UserWarning),
        pytest.raises(ValueError, match="no readable image"),
    ):
        load_image_folder(tmp_path)
    with pytest.raises(ValueError, match="on_error"):
        load_image_folder(tmp_path, on_error="ignore")


def test_decode_image_names_the_source():
    with pytest.raises(ImageReadError, match=r"'member\.jpg'"):
        decode_image(b"\xff\xd8\xff\x00 broken", name="member.jpg")
    assert decode_image(_jpeg_bytes(_gradient()), name="x").shape == (30, 40)


def test_transform_in_parallel_chunks_with_progress(tmp_path, capsys):
    from PIL import Image
    from sklearn.pipeline import make_pipeline

    from sklearn_braintumor.preprocessing import BrainCrop, Resize

    rng = np.random.default_rng(0)
    for name in ("glioma", "notumor"):
        (tmp_path / name).mkdir()
        for i in range(5):
            size = (40 + 3 * i, 36)
            Image.fromarray(rng.integers(0, 255, size, dtype=np.uint8)).save(
                tmp_path / name / f"{i}.png"
            )
    (tmp_path / "glioma" / "2.png").write_bytes(b"broken")  # in the middle of a chunk
    pipe = make_pipeline(BrainCrop(), Resize((16, 16)))
    with pytest.warns(UserWarning, match="skipped 1 unreadable"):
        plain = load_image_folder(tmp_path, on_error="warn")
    with pytest.warns(UserWarning, match="skipped 1 unreadable"):
        chunked = load_image_folder(tmp_path, on_error="warn", transform=pipe, n_jobs=2,
                                    chunk_size=3, verbose=True)  # fmt: skip
    # off a terminal (captured here) one summary line instead of a progress bar
    assert capsys.readouterr().err == "loading: 10 files read, 1 unreadable\n"
    np.testing.assert_array_equal(chunked.images, pipe.fit_transform(list(plain.images)))
    np.testing.assert_array_equal(chunked.target, plain.target)
    np.testing.assert_array_equal(chunked.filenames, plain.filenames)
    np.testing.assert_array_equal(chunked.sha256, plain.sha256)
    assert chunked.images.shape == (9, 16, 16) and "transformed on loading" in chunked.DESCR
    with pytest.raises(ValueError, match="chunk_size"):
        load_image_folder(tmp_path, chunk_size=0)
