"""Small sample media for the demo, generated on the spot: image, video with sound, audio, text, PDF, zips."""

import io
import shutil
import stat
import subprocess
import zipfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw

__all__ = ["Sample", "FLAGGED_KEYWORD", "generate_samples", "ffmpeg_exe"]

#: The word the emulator's default text moderation rules block; the text sample contains it once.
FLAGGED_KEYWORD = "drugs"


@dataclass(frozen=True)
class Sample:
    """One generated file: ``name`` is its file name (and the last part of its object keys)."""

    name: str
    kind: str  # image, video, audio, text, document, archive, hostile-archive
    content_type: str
    path: Path

    def read(self) -> bytes:
        return self.path.read_bytes()


def ffmpeg_exe() -> str:
    """The ffmpeg binary imageio-ffmpeg ships (or the system's)."""
    try:
        import imageio_ffmpeg  # type: ignore[import-untyped,unused-ignore]

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        found = shutil.which("ffmpeg")
        if found is None:
            raise RuntimeError("no ffmpeg: install imageio-ffmpeg (pip install 'ciflow[local]')") from None
        return found


def _ffmpeg(*args: str) -> None:
    subprocess.run(  # noqa: S603 - our own binary and arguments
        [ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", *args],
        check=True,
        capture_output=True,
        timeout=60,
    )


def _image(path: Path) -> None:
    """A 320x240 picture: a sky gradient, a sun and a hill, so its thumbnail is recognisable."""
    image = Image.new("RGB", (320, 240))
    draw = ImageDraw.Draw(image)
    for y in range(240):
        draw.line([(0, y), (319, y)], fill=(40 + y // 4, 110 + y // 3, 220 - y // 5))
    draw.ellipse((220, 30, 290, 100), fill=(255, 205, 60))
    draw.polygon([(0, 240), (0, 170), (120, 120), (320, 190), (320, 240)], fill=(60, 140, 70))
    draw.text((12, 12), "ciflow demo", fill=(255, 255, 255))
    image.save(path, format="PNG")


def _video(path: Path) -> None:
    """Two seconds of ffmpeg's test pattern at 160x120 with a 440 Hz tone (H.264 + AAC in MP4)."""
    _ffmpeg(
        "-f", "lavfi", "-i", "testsrc=size=160x120:rate=12:duration=2",
        "-f", "lavfi", "-i", "sine=frequency=440:duration=2",
        "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
        "-c:a", "aac", "-b:a", "48k", "-shortest", "-movflags", "+faststart", str(path),
    )  # fmt: skip


def _audio(path: Path) -> None:
    """Two seconds of a 660 Hz tone as MP3."""
    _ffmpeg("-f", "lavfi", "-i", "sine=frequency=660:duration=2", "-c:a", "libmp3lame", "-b:a", "64k", str(path))


def _text(path: Path) -> None:
    path.write_text(
        "Minutes of the ciflow demo meeting.\n"
        "Everyone agreed the pipeline should run offline.\n"
        f"Someone joked about selling {FLAGGED_KEYWORD} to pay for a new server; moderation flags that line.\n",
        encoding="utf-8",
    )


def _pdf(path: Path) -> None:
    """Two pages (Pillow's PDF writer), each with a heading and a coloured block."""
    pages = []
    for number, colour in ((1, (200, 60, 60)), (2, (60, 60, 200))):
        page = Image.new("RGB", (420, 594), "white")
        draw = ImageDraw.Draw(page)
        draw.text((40, 40), f"ciflow demo document - page {number}", fill="black")
        draw.rectangle((40, 100, 380, 300), fill=colour)
        pages.append(page)
    pages[0].save(path, format="PDF", save_all=True, append_images=pages[1:], resolution=72.0)


def _member(name: str) -> zipfile.ZipInfo:
    """A regular file entry as Info-ZIP writes it on Unix (``-rw-r--r--``)."""
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.create_system = 3
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _archive(path: Path) -> None:
    """A zip of a text file and a tiny image in a folder."""
    dot = io.BytesIO()
    Image.new("RGB", (16, 16), (255, 0, 0)).save(dot, format="PNG")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(_member("readme.txt"), "extracted by the emulated FileUncompress job\n")
        archive.writestr(_member("images/dot.png"), dot.getvalue())


def _hostile_archive(path: Path) -> None:
    """A zip whose second entry climbs out of the extraction prefix (``../``): CI must refuse it."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(_member("innocent.txt"), "nothing to see\n")
        archive.writestr(_member("../escaped.txt"), "this must never land outside the prefix\n")


_MAKERS = (
    ("photo.png", "image", "image/png", _image),
    ("clip.mp4", "video", "video/mp4", _video),
    ("tone.mp3", "audio", "audio/mpeg", _audio),
    ("notes.txt", "text", "text/plain", _text),
    ("document.pdf", "document", "application/pdf", _pdf),
    ("bundle.zip", "archive", "application/zip", _archive),
    ("hostile.zip", "hostile-archive", "application/zip", _hostile_archive),
)


def generate_samples(directory: Path) -> dict[str, Sample]:
    """Write every sample into ``directory``; by file name."""
    directory.mkdir(parents=True, exist_ok=True)
    samples: dict[str, Sample] = {}
    for name, kind, content_type, make in _MAKERS:
        path = directory / name
        make(path)
        samples[name] = Sample(name, kind, content_type, path)
    return samples
