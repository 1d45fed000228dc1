"""Images made here, by Pillow (and pillow-heif for HEIC), for the photo tests of every layer: the
preparation itself, the chat and console APIs, and the browser."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from PIL import ExifTags, Image, ImageCms

RED = (200, 30, 30)
BLUE = (20, 20, 230)


def image_bytes(fmt: str, size: tuple[int, int], mode: str = "RGB", colour: Any = RED, **save: Any) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, format=fmt, **save)
    return out.getvalue()


def png_announcing(width: int, height: int) -> bytes:
    """A few hundred bytes whose header says width x height RGB, with two rows of pixel data: a
    decompression bomb."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(bytes(2 * (1 + 3 * width)), 9)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def with_gps_and_orientation(fmt: str) -> bytes:
    """200 x 100, a blue corner at the stored top left, EXIF Orientation 6 (turn right to view),
    a GPS position, XMP, and for the kinds that keep them an ICC profile and a comment."""
    picture = Image.new("RGB", (200, 100), RED)
    picture.paste(BLUE, (0, 0, 30, 30))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", (48.0, 51.0, 29.6)
    gps[ExifTags.GPS.GPSLongitudeRef], gps[ExifTags.GPS.GPSLongitude] = "E", (2.0, 17.0, 40.2)
    extra: dict[str, Any] = {"xmp": b'<x:xmpmeta xmlns:x="adobe:ns:meta/">home</x:xmpmeta>'}
    if fmt != "HEIF":
        extra["icc_profile"] = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    if fmt == "JPEG":
        extra["comment"] = b"taken at home"
    out = io.BytesIO()
    picture.save(out, format=fmt, exif=exif, **extra)
    return out.getvalue()


def has_gps(data: bytes) -> bool:
    with Image.open(io.BytesIO(data)) as opened:
        return bool(opened.getexif().get_ifd(ExifTags.IFD.GPSInfo))


def srgb_with_red_and_green_swapped() -> bytes:
    """An RGB ICC profile whose red primary is sRGB's green and whose green is sRGB's red (Pillow's
    built-in sRGB profile with its rXYZ and gXYZ tags pointing at each other's data): a pixel
    tagged with it that reads (200, 30, 30) is green in sRGB. A colour space no camera uses, so that
    a test can tell converted pixels from copied ones at a glance."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    count = struct.unpack(">I", data[128:132])[0]
    entries = {bytes(data[132 + 12 * i : 136 + 12 * i]): 132 + 12 * i for i in range(count)}
    red, green = entries[b"rXYZ"], entries[b"gXYZ"]
    data[red + 4 : red + 12], data[green + 4 : green + 12] = data[green + 4 : green + 12], data[red + 4 : red + 12]
    return bytes(data)
