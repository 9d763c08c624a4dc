"""The 256x256 network crops cut with torch (on the GPU), as cv2.warpAffine INTER_LINEAR cuts them: every pixel
within 1 grey level of OpenCV's, more than 99.9 % equal (test/core/test_gpu_crop.py checks both).

The uint8 image is uploaded once per frame (from a reused pinned host buffer, non-blocking) and all
persons' crops are sampled in one batched gather, producing the normalised network input
((pixel_0_255 - mean) / std, RGB, see mppe_ros.preprocessing.patches_to_tensor) directly in the
networks' dtype and memory layout.

OpenCV's uint8 bilinear warp is fixed-point, and this module reproduces it (checked against
OpenCV 4.x): the 2x3 crop affine is inverted in float64 (cv2.invertAffineTransform), the source
coordinate of crop pixel (x, y) is `round(A00*x*1024) + round((A01*y + A02)*1024) + 16` (and
likewise for v) shifted right by 5, i.e. a position in 1/32 px; the four neighbours get weights
(32 - fx)(32 - fy) * 32 ... (sum 32768); the pixel is (sum w*p + 16384) >> 15. Neighbours outside
the image count as 0 (cv2.BORDER_CONSTANT, black). Everything is integer arithmetic after the
float64 coordinate step, so CPU and GPU agree with cv2 exactly.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from mppe_ros.networks import INPUT_SIZE_PX
from mppe_ros.preprocessing import PIXEL_MEAN_RGB, PIXEL_STD_RGB, invert_affines

AB_SCALE = 1024  # cv2 warpAffine: coordinates in 1/1024 px before the INTER_BITS shift
INTER_BITS = 5  # 1/32 px sub-pixel positions (INTER_TAB_SIZE = 32)
INTER_TAB_SIZE = 1 << INTER_BITS
ROUND_DELTA = AB_SCALE // INTER_TAB_SIZE // 2  # rounds to the nearest 1/32 px
REMAP_SHIFT = 15  # fixed-point weights sum to 1 << 15 (INTER_REMAP_COEF_SCALE)


def source_coordinate_terms(affines: np.ndarray, size: int = INPUT_SIZE_PX) -> np.ndarray:
    """cv2's fixed-point source-coordinate terms of each crop column and row.

    Args:
        affines: [N, 2, 3] image -> crop affines (preprocessing.crop_affine).
        size: crop side, px.

    Returns:
        int64 [4, N, size]: (u per column x, u per row y, v per column x, v per row y), in 1/1024
        px; the source position of crop pixel (x, y) in 1/32 px is
        (u_col[x] + u_row[y]) >> 5, (v_col[x] + v_row[y]) >> 5.
    """
    inverse = invert_affines(affines)
    steps = np.arange(size, dtype=np.float64)
    u_col = np.rint(inverse[:, 0, 0, None] * steps * AB_SCALE)
    v_col = np.rint(inverse[:, 1, 0, None] * steps * AB_SCALE)
    u_row = np.rint((inverse[:, 0, 1, None] * steps + inverse[:, 0, 2, None]) * AB_SCALE) + ROUND_DELTA
    v_row = np.rint((inverse[:, 1, 1, None] * steps + inverse[:, 1, 2, None]) * AB_SCALE) + ROUND_DELTA
    return np.stack([u_col, u_row, v_col, v_row]).astype(np.int64)


def warp_crops(image_bgr: torch.Tensor, coordinate_terms: torch.Tensor) -> torch.Tensor:
    """Bilinear crops of one image, as cv2.warpAffine(INTER_LINEAR, BORDER_CONSTANT 0) computes them.

    Args:
        image_bgr: uint8 [H, W, 3] image on any device.
        coordinate_terms: int64 [4, N, S] from source_coordinate_terms, on the same device.

    Returns:
        uint8 [N, S, S, 3] BGR crops (same channel order as the image).
    """
    height, width = image_bgr.shape[:2]
    u_col, u_row, v_col, v_row = coordinate_terms.unbind(0)
    u = (u_col[:, None, :] + u_row[:, :, None]) >> (10 - INTER_BITS)  # [N, S(y), S(x)] in 1/32 px
    v = (v_col[:, None, :] + v_row[:, :, None]) >> (10 - INTER_BITS)
    x0, y0 = u >> INTER_BITS, v >> INTER_BITS  # floor, also for negative positions
    fx, fy = u & (INTER_TAB_SIZE - 1), v & (INTER_TAB_SIZE - 1)
    pixels = image_bgr.reshape(-1, 3).to(torch.int32)
    total = torch.full((*u.shape, 3), 1 << (REMAP_SHIFT - 1), dtype=torch.int32, device=image_bgr.device)
    weight_scale = (1 << REMAP_SHIFT) // (INTER_TAB_SIZE * INTER_TAB_SIZE)  # 32
    for dy, wy in ((0, INTER_TAB_SIZE - fy), (1, fy)):
        for dx, wx in ((0, INTER_TAB_SIZE - fx), (1, fx)):
            xs, ys = x0 + dx, y0 + dy
            inside = (xs >= 0) & (xs < width) & (ys >= 0) & (ys < height)
            index = (ys.clamp(0, height - 1) * width + xs.clamp(0, width - 1)).reshape(-1)
            weight = (wx * wy * weight_scale * inside).to(torch.int32)
            total += pixels.index_select(0, index).reshape(total.shape) * weight[..., None]
    return (total >> REMAP_SHIFT).clamp(0, 255).to(torch.uint8)


def normalise_crops(
    crops_bgr: torch.Tensor, dtype: torch.dtype = torch.float32, channels_last: bool = True
) -> torch.Tensor:
    """uint8 [N, S, S, 3] BGR -> network input [N, 3, S, S]: RGB, (pixel - mean) / std on 0..255.

    The arithmetic is float32 as in preprocessing.patches_to_tensor (same values), then cast
    to `dtype`. With channels_last the result is NHWC in memory (no copy from the crop layout).
    """
    mean, std = _mean_std(crops_bgr.device)
    images = ((crops_bgr.flip(-1).float() - mean) / std).to(dtype).permute(0, 3, 1, 2)
    return images if channels_last else images.contiguous()


@functools.lru_cache(maxsize=8)
def _mean_std(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """ImageNet mean and std (RGB) on `device`, made once (no host-to-device copy per frame)."""
    return torch.tensor(PIXEL_MEAN_RGB, device=device), torch.tensor(PIXEL_STD_RGB, device=device)


class CropSampler:
    """Cuts and normalises the crops of a frame on `device`, uploading each image once.

    On CUDA the image goes through a pinned host buffer (reused while the frame size stays
    the same) with a non-blocking copy; the next upload waits for the previous copy to finish
    before it overwrites the buffer.

    Args:
        device: where the crops are made (normally the networks' CUDA device; CPU works too).
        dtype: dtype of the network input.
        channels_last: NHWC network input.
    """

    def __init__(
        self, device: str | torch.device, dtype: torch.dtype = torch.float32, channels_last: bool = True
    ) -> None:
        self.device = torch.device(device)
        self.dtype = dtype
        self.channels_last = channels_last
        self._pinned: torch.Tensor | None = None
        self._copied: torch.cuda.Event | None = None

    def upload(self, image_bgr: np.ndarray) -> torch.Tensor:
        """uint8 [H, W, 3] numpy image -> the same on `device`."""
        source = torch.from_numpy(np.ascontiguousarray(image_bgr))
        if self.device.type != "cuda":
            return source.to(self.device)
        if self._pinned is None or self._pinned.shape != source.shape:
            self._pinned = torch.empty(source.shape, dtype=torch.uint8, pin_memory=True)
            self._copied = None
        if self._copied is not None:
            self._copied.synchronize()
        self._pinned.copy_(source)
        image = self._pinned.to(self.device, non_blocking=True)
        self._copied = torch.cuda.Event()
        self._copied.record()
        return image

    def __call__(self, image_bgr: np.ndarray, affines: np.ndarray) -> torch.Tensor:
        """Network input for the crops `affines` [N, 2, 3] of `image_bgr` (uint8 BGR [H, W, 3]).

        Returns:
            [N, 3, 256, 256] tensor on `device` in `dtype`, equal (float32) to
            patches_to_tensor(crop_patches(image_bgr, boxes)[0]).
        """
        terms = torch.from_numpy(source_coordinate_terms(affines))
        if self.device.type == "cuda":
            terms = terms.pin_memory().to(self.device, non_blocking=True)
        crops = warp_crops(self.upload(image_bgr), terms.to(self.device))
        return normalise_crops(crops, self.dtype, self.channels_last)
