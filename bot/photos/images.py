"""A sent photo, checked and made safe to keep and show: :func:`prepare_photo`.

What was sent is judged by its bytes alone, never by a file name or a Content-Type: the magic
bytes say which of the four accepted kinds it claims to be (JPEG, PNG, WebP, HEIC), and only that
kind's decoder may open it (Pillow, and pillow-heif for HEIC), so nothing else in Pillow's long
list of formats is ever reached by a stranger's file. Then:

- size first: more than :data:`MAX_PHOTO_BYTES` is refused before anything is decoded;
- decompression bombs: the header's width and height are read without decoding and more than
  :data:`MAX_PHOTO_PIXELS` is refused. That is our own check: Pillow's ``Image.MAX_IMAGE_PIXELS``
  is process-wide and only warns below twice its value, so nothing here relies on it (its
  :class:`~PIL.Image.DecompressionBombError` is caught in case someone lowered it);
- anything whose signature matched but that then does not decode in full is ``photo_truncated``
  (cut short or damaged: either way the shopper's remedy is to send it again); anything with no
  accepted signature is ``photo_not_an_image``, or ``photo_type_unsupported`` for an image kind we
  recognise but do not take (GIF, SVG, AVIF, TIFF, BMP);
- the EXIF orientation is applied to the pixels first (HEIC: libheif applies the file's own
  rotation and mirroring, and pillow-heif neutralises the EXIF one so it is not applied twice);
- the colours are converted to sRGB from the file's own RGB profile (a phone's Display P3, say), as
  the profile is about to go and an untagged JPEG is read as sRGB everywhere;
- then every metadata field is dropped (EXIF with its GPS position, XMP, ICC profile, comments):
  the output is the pixels alone, as a baseline RGB JPEG (transparency laid on white), at most
  :data:`MAX_EDGE` pixels on its longest side, and a :data:`THUMBNAIL_EDGE` thumbnail.

Memory is bounded by the pixel limit: a JPEG decodes at the smallest of 1/1 to 1/8 scale that
still covers :data:`MAX_EDGE`, and the other kinds are shrunk in place right after decoding, so the
peak is about four bytes per input pixel (at most some 200 MB at :data:`MAX_PHOTO_PIXELS`).

It is CPU-bound (tens to hundreds of milliseconds for a phone photo): call it in a worker thread,
``await asyncio.to_thread(prepare_photo, data)``, and bound how many run at once.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Literal

import pillow_heif
from PIL import Image, ImageCms, ImageOps

from bot.core.refusals import Refusal

pillow_heif.register_heif_opener()

#: The largest upload taken (10 MiB), checked before anything is decoded.
MAX_PHOTO_BYTES = 10 * 1024 * 1024
#: The most pixels a header may announce (50 megapixels: above every phone camera's default output).
MAX_PHOTO_PIXELS = 50_000_000
#: The longest side of the kept JPEG: a label or a scratch stays readable, and a photo stays a few MB.
MAX_EDGE = 4096
#: The longest side of the thumbnail (the gallery and the chat show these).
THUMBNAIL_EDGE = 320
JPEG_QUALITY = 85
THUMBNAIL_QUALITY = 80

PhotoSource = Literal["jpeg", "png", "webp", "heic"]

#: What every kept photo's pixels mean once its own profile is dropped.
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))

#: The decoder each accepted kind may be opened with (Pillow's format names).
_DECODER: dict[PhotoSource, str] = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "heic": "HEIF"}
#: ISO-BMFF brands of HEVC-coded HEIF files, as phones write them (major or compatible brand).
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
#: Headers read in full by the Windows bitmap decoder: a real BMP has one of these sizes at byte 14.
_BMP_HEADER_SIZES = frozenset({12, 40, 52, 56, 64, 108, 124})


class PhotoRefused(Refusal, ValueError):
    """A photo that is not taken: too large, not an image, of a kind not accepted, damaged or a bomb."""


@dataclass(frozen=True)
class PreparedPhoto:
    """A photo ready to keep: ``jpeg`` (``width`` x ``height``, upright) and ``thumbnail`` hold
    pixels only, no metadata; ``source`` is the kind that was sent."""

    jpeg: bytes
    thumbnail: bytes
    width: int
    height: int
    source: PhotoSource


def prepare_photo(data: bytes) -> PreparedPhoto:
    """``data`` checked, upright and stripped, as a JPEG and a thumbnail; :class:`PhotoRefused` if
    it is not taken. CPU-bound: run it with :func:`asyncio.to_thread`."""
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoRefused("photo_too_large", limit_mb=MAX_PHOTO_BYTES // (1024 * 1024))
    source = _sniffed_kind(data)
    picture = _decoded(data, source)
    width, height = picture.size
    jpeg = _jpeg(picture, JPEG_QUALITY)
    picture.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE))
    return PreparedPhoto(jpeg, _jpeg(picture, THUMBNAIL_QUALITY), width, height, source)


def _sniffed_kind(data: bytes) -> PhotoSource:
    """The accepted kind the magic bytes announce; :class:`PhotoRefused` for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp":
        brands = _ftyp_brands(data)
        if brands & _AVIF_BRANDS:  # AVIF files name mif1 too: tell them apart first
            raise PhotoRefused("photo_type_unsupported", kind="AVIF")
        if brands & _HEIC_BRANDS:
            return "heic"
    elif data.startswith((b"GIF87a", b"GIF89a")):
        raise PhotoRefused("photo_type_unsupported", kind="GIF")
    elif data.startswith((b"II*\x00", b"MM\x00*")):
        raise PhotoRefused("photo_type_unsupported", kind="TIFF")
    elif data[:2] == b"BM" and int.from_bytes(data[14:18], "little") in _BMP_HEADER_SIZES:
        raise PhotoRefused("photo_type_unsupported", kind="BMP")
    elif _is_svg(data):
        raise PhotoRefused("photo_type_unsupported", kind="SVG")
    raise PhotoRefused("photo_not_an_image")


def _ftyp_brands(data: bytes) -> set[bytes]:
    """The major and compatible brands of an ISO-BMFF file's leading ``ftyp`` box."""
    end = min(int.from_bytes(data[:4], "big"), len(data), 256)
    return {data[8:12]} | {data[i : i + 4] for i in range(16, end - 3, 4)}


def _is_svg(data: bytes) -> bool:
    head = data[:4096].removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    return head.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype svg")) and b"<svg" in head


def _decoded(data: bytes, source: PhotoSource) -> Image.Image:
    """The pixels, upright, RGB on white, at most :data:`MAX_EDGE` on the longest side, no metadata."""
    try:
        opened = Image.open(io.BytesIO(data), formats=[_DECODER[source]])
    except Image.DecompressionBombError:
        raise PhotoRefused("photo_too_many_pixels", limit=MAX_PHOTO_PIXELS) from None
    except Exception:  # the header did not parse, whichever decoder error says so
        raise PhotoRefused("photo_truncated") from None
    with opened:
        icc = opened.info.get("icc_profile")
        width, height = opened.size
        if width * height > MAX_PHOTO_PIXELS:
            raise PhotoRefused("photo_too_many_pixels", limit=MAX_PHOTO_PIXELS)
        if opened.format != _DECODER[source] or width < 1 or height < 1:
            raise PhotoRefused("photo_not_an_image")
        # JPEG only (the others ignore it): decode at 1/2, 1/4 or 1/8 scale where that still covers MAX_EDGE.
        scale = min(1.0, MAX_EDGE / max(width, height))
        opened.draft("RGB", (max(1, round(width * scale)), max(1, round(height * scale))))
        try:
            opened.load()
            picture: Image.Image = opened
            ImageOps.exif_transpose(picture, in_place=True)
        except Image.DecompressionBombError:
            raise PhotoRefused("photo_too_many_pixels", limit=MAX_PHOTO_PIXELS) from None
        except Exception:  # Pillow's decoders say "cut short" with OSError, SyntaxError, EOFError...
            raise PhotoRefused("photo_truncated") from None
        if picture.mode.startswith("I"):  # 16- or 32-bit grey: RGB would clip everything above 255 to white
            picture = picture.convert("I").point(lambda value: value / 256).convert("L")
        has_alpha = picture.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in picture.info
        wanted = "RGBA" if has_alpha else "RGB"
        if picture.mode != wanted:
            try:
                picture = picture.convert(wanted)
            except ValueError:  # a pixel mode Pillow cannot turn into RGB
                raise PhotoRefused("photo_type_unsupported", kind=f"{source.upper()} {opened.mode}") from None
    picture.thumbnail((MAX_EDGE, MAX_EDGE))
    if has_alpha:
        on_white = Image.new("RGBA", picture.size, (255, 255, 255, 255))
        on_white.alpha_composite(picture)
        picture = on_white.convert("RGB")
    picture = _in_srgb(picture, icc)
    # Nothing the file said about itself goes on: EXIF (GPS, camera, time), XMP, ICC, comments.
    picture.info = {}
    return picture


def _in_srgb(picture: Image.Image, icc: object) -> Image.Image:
    """The RGB pixels converted from the file's RGB profile to sRGB; as they are without one, or with
    a profile that is not RGB or does not parse (a stranger's bytes: never a reason to refuse)."""
    if not isinstance(icc, bytes) or not icc or picture.mode != "RGB":
        return picture
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if profile.profile.xcolor_space.strip() != "RGB":
            return picture
        converted = ImageCms.profileToProfile(picture, profile, _SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return picture
    return converted if isinstance(converted, Image.Image) else picture


def _jpeg(picture: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    # Every metadata field named empty, whatever a later Pillow would otherwise carry over from .info.
    picture.save(out, format="JPEG", quality=quality, optimize=True, exif=b"", icc_profile=None, comment=b"", xmp=b"")
    return out.getvalue()
