"""Which files are worth compressing: DEFLATE for text-like files, STORED for already-compressed ones."""

from __future__ import annotations

__all__ = ["is_compressible"]

# Formats that are already compressed: DEFLATE would only cost time (and add a few bytes).
_COMPRESSED_EXTENSIONS = """
    png jpg jpeg gif webp avif heic heif jxl jp2 mp4 m4v m4a mov mkv webm avi mpg mpeg ogg ogv oga
    opus mp3 aac flac wma wmv flv 3gp zip gz tgz bz2 xz lzma zst br 7z rar jar war apk epub docx xlsx
    pptx odt ods odp pdf woff woff2 swf cab dmg iso"""
_COMPRESSED = frozenset(_COMPRESSED_EXTENSIONS.split())
# Text and other formats that DEFLATE shrinks well.
_TEXT_EXTENSIONS = """
    toml xml html htm xhtml txt text json js mjs cjs css scss less svg srt vtt sjson csv tsv md
    markdown rst py yaml yml ini cfg conf tex latex bib sql log rtf ics olx xsd xsl xslt dtd
    sh ps1 bat rb java c h cpp hpp go rs ts tsx jsx vue php pl r m ipynb ttf otf eot bmp tif tiff
    ico wav psd"""
_TEXT = frozenset(_TEXT_EXTENSIONS.split())
_TEXT_TYPES = ("text/", "application/json", "application/javascript", "application/xml", "image/svg")
_PACKED_TYPES = (
    "image/",
    "video/",
    "audio/",
    "font/woff",
    "application/zip",
    "application/gzip",
    "application/pdf",
    "application/x-7z",
    "application/x-rar",
    "application/x-bzip2",
    "application/x-xz",
    "application/zstd",
    "application/epub",
)


def is_compressible(path: str, media_type: str | None = None) -> bool:
    """Whether DEFLATE is worth it for a file, judged by its extension, then by its media type.

    Known text-like extensions are compressible; known already-compressed formats (images, audio,
    video, archives, PDF, web fonts) are not. Otherwise the media type decides (``text/*``, JSON,
    XML, ``+xml``/``+json`` suffixes yes; images, audio, video, archives no). Anything still unknown
    is compressed: DEFLATE costs little and never grows data by more than a few bytes per 16 KiB.
    """
    name = path.rsplit("/", 1)[-1].lower()
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    if ext in _TEXT:
        return True
    if ext in _COMPRESSED:
        return False
    if media_type:
        kind = media_type.lower()
        if kind.startswith(_TEXT_TYPES) or kind.endswith(("+xml", "+json")):
            return True
        if kind.startswith(_PACKED_TYPES):
            return False
    return True
