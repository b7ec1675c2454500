#!/usr/bin/env python3
"""Rebuilds the image seeds of fuzz/corpus/ from tests/fixtures/faces (Pillow 13.0.0).

Small on purpose: AFL mutates small inputs far faster, and the repo stays lean.
The CSV and multipart seeds are written by hand (see docs/fuzzing.md).
"""
import io
import pathlib

from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parent.parent
FACES = ROOT / "tests" / "fixtures" / "faces"
CORPUS = ROOT / "fuzz" / "corpus"


def save(img, target, name, **kw):
    buf = io.BytesIO()
    img.save(buf, **kw)
    (CORPUS / target / name).write_bytes(buf.getvalue())


def main():
    face = Image.open(FACES / "person-a-center.jpg").convert("RGB")
    tulips = Image.open(FACES / "no-face.jpg").convert("RGB")
    small = face.resize((24, 24))
    save(small, "image_decode", "baseline.jpg", format="JPEG", quality=50)
    save(small, "image_decode", "progressive.jpg", format="JPEG", quality=50, progressive=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90
    save(face.resize((16, 12)), "image_decode", "exif-rotated.jpg", format="JPEG",
         quality=50, exif=exif.tobytes())
    save(small.convert("L").resize((12, 12)), "image_decode", "grey.jpg", format="JPEG", quality=50)
    save(small.resize((16, 16)), "image_decode", "rgb.png", format="PNG")
    save(small.resize((8, 8)).convert("P"), "image_decode", "palette.png", format="PNG")
    save(small.resize((8, 8)).convert("LA"), "image_decode", "grey-alpha.png", format="PNG")
    save(small.resize((16, 16)), "image_decode", "lossless.webp", format="WEBP", lossless=True)
    save(small.resize((16, 16)), "image_decode", "lossy.webp", format="WEBP", quality=40)
    # Faces the detector finds at a fraction of the fixtures' size.
    save(face.resize((96, 96)), "face_frame", "face-96.jpg", format="JPEG", quality=60)
    save(face.resize((64, 64)), "face_frame", "face-64.jpg", format="JPEG", quality=70)
    save(tulips.resize((48, 48)), "face_frame", "no-face-48.jpg", format="JPEG", quality=50)


if __name__ == "__main__":
    main()
