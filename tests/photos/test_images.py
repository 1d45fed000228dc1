"""prepare_photo: the four accepted kinds become a JPEG and a thumbnail; a file is judged by its bytes;
scripts, damaged files, bombs and oversized uploads are refused; the orientation is applied and no
metadata survives. Every image is made here, by Pillow (and pillow-heif for HEIC)."""

from __future__ import annotations

import inspect
import io
import random
import re
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import ExifTags, Image, ImageCms

from bot.photos import images
from bot.photos.images import MAX_EDGE, MAX_PHOTO_PIXELS, THUMBNAIL_EDGE, PhotoRefused, prepare_photo
from tests.photos.sample_images import (
    BLUE,
    RED,
    image_bytes,
    png_announcing,
    srgb_with_red_and_green_swapped,
    with_gps_and_orientation,
)


def _noise(fmt: str) -> bytes:
    """An image whose pixel data fills most of the file (so cutting the file cuts pixels)."""
    pixels = random.Random(18).randbytes(300 * 200 * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (300, 200), pixels).save(out, format=fmt)
    return out.getvalue()


def _opened(jpeg: bytes) -> Image.Image:
    picture = Image.open(io.BytesIO(jpeg))
    assert picture.format == "JPEG"
    return picture


def _near(pixel: Any, colour: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 16 for a, b in zip(pixel, colour, strict=True))


@pytest.mark.parametrize(
    ("fmt", "size", "mode", "colour", "source", "full", "thumbnail", "seen"),
    [
        ("JPEG", (640, 480), "RGB", RED, "jpeg", (640, 480), (320, 240), RED),
        # Transparency is laid on white, not on whatever the hidden pixels hold.
        ("PNG", (480, 640), "RGBA", (*RED, 0), "png", (480, 640), (240, 320), (255, 255, 255)),
        ("WEBP", (640, 480), "RGB", RED, "webp", (640, 480), (320, 240), RED),
        ("HEIF", (640, 480), "RGB", RED, "heic", (640, 480), (320, 240), RED),
        # Larger than MAX_EDGE: shrunk (the JPEG decoded at a reduced scale first).
        ("JPEG", (8200, 410), "RGB", RED, "jpeg", (MAX_EDGE, 205), (THUMBNAIL_EDGE, 16), RED),
        # 16-bit grey is scaled to 8 bits, not clipped to white.
        ("PNG", (64, 48), "I;16", 0x8000, "png", (64, 48), (64, 48), (128, 128, 128)),  # smaller than a thumbnail
        ("PNG", (300, 6000), "P", 1, "png", (205, MAX_EDGE), (16, THUMBNAIL_EDGE), (0, 0, 0)),
    ],
)
def test_accepted_kinds_become_a_jpeg_and_a_thumbnail(
    fmt: str, size: tuple[int, int], mode: str, colour: Any, source: str, full: tuple, thumbnail: tuple, seen: tuple
) -> None:
    prepared = prepare_photo(image_bytes(fmt, size, mode, colour))
    assert prepared.source == source
    kept = _opened(prepared.jpeg)
    assert kept.size == (prepared.width, prepared.height) == full
    assert kept.mode == "RGB"
    assert _near(kept.getpixel((full[0] // 2, full[1] // 2)), seen)
    small = _opened(prepared.thumbnail)
    assert small.size == thumbnail
    assert max(small.size) == min(THUMBNAIL_EDGE, max(full))  # never enlarged


def test_the_kind_comes_from_the_bytes_never_from_a_name(tmp_path: Path) -> None:
    renamed = tmp_path / "damaged-pan.jpg"
    renamed.write_bytes(image_bytes("PNG", (40, 30)))
    assert prepare_photo(renamed.read_bytes()).source == "png"
    assert list(inspect.signature(prepare_photo).parameters) == ["data"]


SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'


@pytest.mark.parametrize(
    ("data", "code", "params"),
    [
        (b"#!/bin/sh\nrm -rf /\n", "photo_not_an_image", {}),
        (b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", "photo_not_an_image", {}),
        (b"", "photo_not_an_image", {}),
        (SVG, "photo_type_unsupported", {"kind": "SVG"}),
        (b"\xef\xbb\xbf  " + SVG.replace(b'<?xml version="1.0"?>\n', b""), "photo_type_unsupported", {"kind": "SVG"}),
        (image_bytes("GIF", (20, 20)), "photo_type_unsupported", {"kind": "GIF"}),
        (image_bytes("TIFF", (20, 20)), "photo_type_unsupported", {"kind": "TIFF"}),
        (image_bytes("BMP", (20, 20)), "photo_type_unsupported", {"kind": "BMP"}),
    ],
    ids=["shell-script", "html", "empty", "svg", "svg-bom-no-prolog", "gif", "tiff", "bmp"],
)
def test_what_is_not_an_accepted_image_is_refused(data: bytes, code: str, params: dict) -> None:
    with pytest.raises(PhotoRefused) as refused:
        prepare_photo(data)
    assert (refused.value.code, refused.value.params) == (code, params)
    assert isinstance(refused.value, ValueError)


@pytest.mark.parametrize(
    ("fmt", "keep"),
    [("JPEG", 0.5), ("PNG", 0.5), ("WEBP", 0.5), ("PNG", 0.01), ("JPEG", 0.01)],
)
def test_a_cut_short_image_is_refused_as_truncated(fmt: str, keep: float) -> None:
    """Cut in the pixels or in the header: the signature matched, so it is a damaged image
    (photo_truncated: send it again), not a file of another kind."""
    whole = _noise(fmt)
    with pytest.raises(PhotoRefused) as refused:
        prepare_photo(whole[: int(len(whole) * keep)])
    assert refused.value.code == "photo_truncated"


def _peak_resident_kib() -> int:
    found = re.search(r"VmHWM:\s+(\d+) kB", Path("/proc/self/status").read_text())
    assert found
    return int(found.group(1))


@pytest.mark.parametrize(
    "side",
    # 10 gigapixels (Pillow's own bomb error), and 64 megapixels: under Pillow's default limit, so only ours refuses it.
    [100_000, 8_000],
)
def test_a_decompression_bomb_is_refused_quickly_and_in_little_memory(side: int) -> None:
    bomb = png_announcing(side, side)
    assert len(bomb) < 20_000
    Path("/proc/self/clear_refs").write_text("5")  # the kernel's peak resident size starts again from now
    before = _peak_resident_kib()
    started = time.perf_counter()
    with pytest.raises(PhotoRefused) as refused:
        prepare_photo(bomb)
    assert time.perf_counter() - started < 1.0
    assert _peak_resident_kib() - before < 20 * 1024
    assert (refused.value.code, refused.value.params) == ("photo_too_many_pixels", {"limit": MAX_PHOTO_PIXELS})


def test_an_upload_over_10_mb_is_refused_before_any_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoded an oversized upload")

    monkeypatch.setattr(images.Image, "open", never)
    with pytest.raises(PhotoRefused) as refused:
        prepare_photo(b"\xff\xd8\xff\xe0" + bytes(11 * 1024 * 1024))
    assert (refused.value.code, refused.value.params) == ("photo_too_large", {"limit_mb": 10})


#: What a baseline JPEG needs; EXIF and XMP (APP1), ICC (APP2), Photoshop (APP13) and comments (COM) are none of it.
PIXEL_SEGMENTS = {0xE0, 0xDB, 0xC0, 0xC4, 0xDD}


def _segments_before_scan(jpeg: bytes) -> set[int]:
    found, at = set(), 2
    while jpeg[at + 1] != 0xDA:  # start of scan: the pixels follow
        found.add(jpeg[at + 1])
        at += 2 + int.from_bytes(jpeg[at + 2 : at + 4], "big")
    return found


@pytest.mark.parametrize(
    ("fmt", "upright"),
    # HEIC: libheif applies the file's own rotation (irot/imir); the EXIF one is not applied on top (HEIF's rule).
    [("JPEG", True), ("PNG", True), ("WEBP", True), ("HEIF", False)],
)
def test_the_orientation_is_applied_and_no_metadata_survives(fmt: str, upright: bool) -> None:
    sent = with_gps_and_orientation(fmt)
    with Image.open(io.BytesIO(sent)) as original:
        assert original.getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"
    prepared = prepare_photo(sent)
    kept = _opened(prepared.jpeg)
    if upright:
        assert kept.size == (100, 200)
        assert _near(kept.getpixel((95, 5)), BLUE)  # the stored top left, turned right, is the top right
    else:
        assert kept.size == (200, 100)
    for written in (prepared.jpeg, prepared.thumbnail):
        assert _segments_before_scan(written) <= PIXEL_SEGMENTS
        opened = _opened(written)
        assert not opened.getexif()
        assert not {"exif", "xmp", "icc_profile", "comment", "photoshop"} & set(opened.info)
        assert b"home" not in written and b"PhoneMaker" not in written


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_colours_are_converted_to_srgb_from_the_files_own_profile(fmt: str) -> None:
    """The profile is dropped with the rest of the metadata, so its colours are converted first: a
    phone's Display P3 would otherwise come out dull. Here a profile with red and green swapped
    makes the difference unmistakable."""
    tagged = image_bytes(fmt, (64, 48), colour=RED, icc_profile=srgb_with_red_and_green_swapped())
    kept = _opened(prepare_photo(tagged).jpeg)
    red, green, blue = kept.getpixel((32, 24))
    assert green > 150 and red < 90 and blue < 90, (red, green, blue)
    assert "icc_profile" not in kept.info
    # An sRGB profile changes nothing; a profile that does not parse is ignored, never a refusal.
    for icc in (ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(), b"not a profile at all"):
        plain = _opened(prepare_photo(image_bytes(fmt, (64, 48), colour=RED, icc_profile=icc)).jpeg)
        assert _near(plain.getpixel((32, 24)), RED)
