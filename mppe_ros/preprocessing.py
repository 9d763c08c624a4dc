"""The official 3DMPPE pre-processing, batched: box processing, 256x256 crops, input scaling, k.

One set of crops is computed per frame and fed to both RootNet and PoseNet (they were trained
with the same pre-processing). Boxes are (x_min, y_min, width, height) in px of the original
image; pixel centres at integer coordinates (OpenCV).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from mppe_ros.networks import INPUT_SIZE_PX

PIXEL_MEAN_RGB = (0.485, 0.456, 0.406)  # ImageNet, applied to 0..255 values (no /255: see patches_to_tensor)
PIXEL_STD_RGB = (0.229, 0.224, 0.225)
BBOX_ENLARGE = 1.25  # process_bbox margin
BBOX_REAL_MM = (2000.0, 2000.0)  # assumed real person box (width, height) for k (MuCo/H36M/MuPoTS)
COLOR_ORDERS = ("bgr", "rgb")


def as_bgr_image(image: np.ndarray, color_order: str = "bgr") -> np.ndarray:
    """Validate a colour image and return it as a C-contiguous BGR uint8 [H, W, 3] array.

    Raises:
        TypeError: `image` is not a numpy array.
        ValueError: wrong dtype, empty, grayscale or 4-channel (the message says how to convert),
            or an unknown `color_order`.
    """
    if not isinstance(image, np.ndarray):
        raise TypeError(f"image must be a numpy uint8 array [H, W, 3], got {type(image).__name__}")
    if color_order not in COLOR_ORDERS:
        raise ValueError(f"color_order must be one of {list(COLOR_ORDERS)}, got {color_order!r}")
    if image.size == 0:
        raise ValueError(f"image is empty (shape {image.shape}); expected a uint8 [H, W, 3] colour image")
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
        raise ValueError(
            f"image is grayscale (shape {image.shape}); the networks need 3 channels: convert with "
            "cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)"
        )
    if image.ndim == 3 and image.shape[2] == 4:
        raise ValueError(
            f"image has 4 channels (shape {image.shape}); drop alpha with cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)"
        )
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must have shape [H, W, 3], got {image.shape}")
    if image.dtype != np.uint8:
        raise ValueError(
            f"image must be uint8 (0..255), got {image.dtype}; convert e.g. with "
            "np.clip(image * 255, 0, 255).astype(np.uint8) for a float image in [0, 1]"
        )
    return np.ascontiguousarray(image if color_order == "bgr" else image[:, :, ::-1])


def process_bbox(box_xywh: np.ndarray, img_w: int, img_h: int) -> np.ndarray | None:
    """The official process_bbox: clip, make square (network aspect 1), enlarge by 1.25.

    1. x1 = max(0, x), y1 = max(0, y), x2 = min(W-1, x1 + max(0, w-1)), y2 likewise; the box becomes
       (x1, y1, x2-x1, y2-y1) (width and height shrink by 1 px), or None when w*h <= 0 or x2 < x1
       or y2 < y1 (empty, outside the image, NaN).
    2. Square around the centre with side max(w, h). 3. Side x1.25. No clipping afterwards: the
       result may extend outside the image (the crop pads with black).

    Differences from the official code, both for inputs it does not handle meaningfully: the
    computation is always float64 (the official one truncates integer-typed boxes), and a box
    whose width and height are both zero after step 1 (the official code would build a singular
    crop affine) gives None.

    Args:
        box_xywh: [4] (x_min, y_min, width, height) in px.
        img_w: image width in px.
        img_h: image height in px.

    Returns:
        float64 [4] processed (x, y, w, h) with w == h, or None when the box is unusable.
    """
    x, y, w, h = np.asarray(box_xywh, dtype=np.float64)
    x1, y1 = np.maximum(0.0, x), np.maximum(0.0, y)  # np.maximum/minimum propagate NaN like np.max
    x2 = np.minimum(img_w - 1.0, x1 + np.maximum(0.0, w - 1.0))
    y2 = np.minimum(img_h - 1.0, y1 + np.maximum(0.0, h - 1.0))
    if not (w * h > 0 and x2 >= x1 and y2 >= y1):
        return None
    clipped_w, clipped_h = x2 - x1, y2 - y1
    side = max(clipped_w, clipped_h) * BBOX_ENLARGE
    if side == 0:
        return None
    center_x, center_y = x1 + clipped_w / 2.0, y1 + clipped_h / 2.0
    return np.array([center_x - side / 2.0, center_y - side / 2.0, side, side])


def crop_affine(processed_box: np.ndarray) -> np.ndarray:
    """The official image -> crop affine: box centre -> (128, 128), box edges -> crop edges.

    Built like the official gen_trans_from_patch_cv: three float32 point pairs (centre, centre +
    (0, h/2), centre + (w/2, 0) -> (128, 128), (128, 256), (256, 128)) through
    cv2.getAffineTransform, so x- and y-scales differ in the 7th digit exactly as in the original.

    Args:
        processed_box: [4] (x, y, w, h) from process_bbox, px.

    Returns:
        float64 [2, 3] affine mapping (u, v, 1) in the image to crop px.
    """
    x, y, w, h = np.asarray(processed_box, dtype=np.float64)
    center = np.array([x + 0.5 * w, y + 0.5 * h], dtype=np.float32)
    down = np.array([0.0, h * 0.5], dtype=np.float32)
    right = np.array([w * 0.5, 0.0], dtype=np.float32)
    half = np.float32(INPUT_SIZE_PX * 0.5)
    src = np.stack([center, center + down, center + right]).astype(np.float32)
    dst = np.array([[half, half], [half, 2 * half], [2 * half, half]], dtype=np.float32)
    return cv2.getAffineTransform(src, dst)


def invert_affines(affines: np.ndarray) -> np.ndarray:
    """Crop -> image affines: cv2.invertAffineTransform of each [N, 2, 3] image -> crop affine, float64.

    The one inversion of the crop affine: the decoding (postprocessing), the GPU crops (gpu_crop) and the
    official-loop oracle use it. A singular affine gives zeros, as OpenCV's does.
    """
    m = np.asarray(affines, dtype=np.float64).reshape(-1, 2, 3)
    det = m[:, 0, 0] * m[:, 1, 1] - m[:, 0, 1] * m[:, 1, 0]
    inv_det = np.divide(1.0, det, out=np.zeros_like(det), where=det != 0)
    a11, a22 = m[:, 1, 1] * inv_det, m[:, 0, 0] * inv_det
    a12, a21 = -m[:, 0, 1] * inv_det, -m[:, 1, 0] * inv_det
    b1 = -a11 * m[:, 0, 2] - a12 * m[:, 1, 2]
    b2 = -a21 * m[:, 0, 2] - a22 * m[:, 1, 2]
    return np.stack([np.stack([a11, a12, b1], 1), np.stack([a21, a22, b2], 1)], 1)


def crop_patches(image_bgr: np.ndarray, processed_boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cut the 256x256 network crops (cv2.warpAffine, bilinear, black outside the image).

    Args:
        image_bgr: uint8 [H, W, 3] BGR image.
        processed_boxes: [N, 4] boxes from process_bbox, px.

    Returns:
        patches_rgb: uint8 [N, 256, 256, 3], RGB (channels reversed after the crop).
        affines: float64 [N, 2, 3] image -> crop affines (crop_affine).
    """
    processed_boxes = np.asarray(processed_boxes, dtype=np.float64).reshape(-1, 4)
    affines = np.stack([crop_affine(box) for box in processed_boxes]) if len(processed_boxes) else np.zeros((0, 2, 3))
    patches = np.zeros((len(processed_boxes), INPUT_SIZE_PX, INPUT_SIZE_PX, 3), dtype=np.uint8)
    for patch, affine in zip(patches, affines, strict=True):
        cv2.warpAffine(image_bgr, affine, (INPUT_SIZE_PX, INPUT_SIZE_PX), dst=patch, flags=cv2.INTER_LINEAR)
        cv2.cvtColor(patch, cv2.COLOR_BGR2RGB, dst=patch)  # channel reversal after the crop, in place
    return patches, affines


def patches_to_tensor(patches: np.ndarray, device: str | torch.device = "cpu") -> torch.Tensor:
    """Network input: (pixel - mean) / std per RGB channel, on 0..255 pixel values.

    The released models were trained with torchvision ToTensor applied to a float32 array, which
    does not divide by 255, followed by Normalize with the ImageNet mean/std; the resulting range
    is about -2 .. 1111. Reproduced here on purpose (dividing by 255 changes the outputs), with
    Normalize's float32 operations (subtract, then divide), so the values are bit-identical.

    Args:
        patches: uint8 [N, 256, 256, 3] RGB crops.
        device: where the tensor is made (the uint8 crops are moved there first: 4x less to copy).

    Returns:
        float32 [N, 3, 256, 256] contiguous tensor on `device`.
    """
    images = torch.from_numpy(np.ascontiguousarray(patches)).to(device).permute(0, 3, 1, 2)
    images = images.to(torch.float32, memory_format=torch.contiguous_format)
    mean = torch.tensor(PIXEL_MEAN_RGB, device=images.device).view(1, 3, 1, 1)
    std = torch.tensor(PIXEL_STD_RGB, device=images.device).view(1, 3, 1, 1)
    return images.sub_(mean).div_(std)


def compute_k_value(
    processed_boxes: np.ndarray, fx: float, fy: float, bbox_real_mm: tuple[float, float] = BBOX_REAL_MM
) -> np.ndarray:
    """RootNet's distance prior k = sqrt(bbox_real_x * bbox_real_y * fx * fy / (w * h)) (paper eq. 2).

    Args:
        processed_boxes: [N, 4] processed boxes (area of the square, enlarged box), px.
        fx: focal length along u, px.
        fy: focal length along v, px.
        bbox_real_mm: assumed real (width, height) of the person box, mm.

    Returns:
        float32 [N] k in mm (computed in float64, then cast as the official demo does).
    """
    processed_boxes = np.asarray(processed_boxes, dtype=np.float64).reshape(-1, 4)
    area_px2 = processed_boxes[:, 2] * processed_boxes[:, 3]
    return np.sqrt(bbox_real_mm[0] * bbox_real_mm[1] * fx * fy / area_px2).astype(np.float32)
