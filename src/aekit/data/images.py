"""A folder of PNG/JPEG images as a Dataset, with class labels from subfolder names.

Follows the ImageFolder convention: ``folder/cat/1.png, folder/dog/2.png`` gives labels
``"cat"`` and ``"dog"``; images directly in ``folder`` give no labels.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import DataError
from .dataset import Dataset
from .idx import is_idx_path

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# Modes kept as one grey channel; every other mode (RGB, RGBA, P, CMYK, ...) becomes RGB.
_GREY_MODES = ("1", "L", "LA")


def image_folder_dataset(folder: Path) -> Dataset:
    """Load every PNG/JPEG under ``folder``, sorted by relative path, as (n, C, H, W) in [0, 1].

    C is 1 when every image is grey, else 3 (grey images are repeated into RGB).

    Raises:
        DataError: no images, images both at the top and in subfolders, differing sizes,
            or an unreadable image.
    """
    files = _image_files(folder)
    depths = {len(path.relative_to(folder).parts) for path in files}
    if len(depths) > 1 and 1 in depths:
        raise DataError(
            f"{folder} has images both directly inside it and in subfolders; put every image "
            "in a subfolder named after its class, or all of them directly in the folder"
        )
    labeled = 1 not in depths

    pixels = []  # each (H, W) for grey or (H, W, 3) for colour, uint8
    first_size = None
    for path in files:
        image = _open_image(path)
        if first_size is None:
            first_size = image.size
        elif image.size != first_size:
            raise DataError(
                f"images in {folder} differ in size: {files[0]} is {_size_text(first_size)} but "
                f"{path} is {_size_text(image.size)}; resize them all to one size"
            )
        mode = "L" if image.mode in _GREY_MODES else "RGB"
        pixels.append(np.asarray(image.convert(mode)))

    colour = any(p.ndim == 3 for p in pixels)
    x = np.stack([_as_channels(p, colour) for p in pixels])  # (n, C, H, W) uint8
    x = x.astype(np.float32)
    x /= 255.0
    y = np.array([path.relative_to(folder).parts[0] for path in files]) if labeled else None
    return Dataset(x=x, y=y, name=str(folder))


def _image_files(folder: Path) -> list[Path]:
    """All image files under ``folder`` (hidden ones skipped), sorted by relative path."""
    files = sorted(
        (
            path
            for path in folder.rglob("*")
            if path.suffix.lower() in IMAGE_SUFFIXES
            and path.is_file()
            and not any(part.startswith(".") for part in path.relative_to(folder).parts)
        ),
        key=lambda path: path.relative_to(folder).as_posix(),
    )
    if not files:
        hint = ""
        if any(is_idx_path(path) for path in folder.iterdir()):
            hint = "; it holds IDX files: pass the images file itself, e.g. train-images-idx3-ubyte"
        raise DataError(f"no PNG or JPEG images found in folder {folder}{hint}")
    return files


def _open_image(path: Path) -> Image.Image:
    """Open and decode one image, turning Pillow's errors into a DataError naming the file."""
    try:
        with Image.open(path) as image:
            image.load()
            return image
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise DataError(f"cannot read image {path}: {exc}") from exc


def _as_channels(pixels: np.ndarray, colour: bool) -> np.ndarray:
    """(H, W) or (H, W, 3) uint8 -> (C, H, W), with C = 3 if ``colour`` else 1."""
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
        if colour:
            pixels = np.repeat(pixels, 3, axis=2)
    return pixels.transpose(2, 0, 1)


def _size_text(size: tuple[int, int]) -> str:
    """Pillow's (width, height) as 'WxH'."""
    return f"{size[0]}x{size[1]}"
