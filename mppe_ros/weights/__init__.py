"""The 3DMPPE weight files: which were released (official), where each is found (resolve), their download (download).

The names below are the package's public API; import them from `mppe_ros.weights`.
"""

from mppe_ros.weights.download import (
    DOWNLOAD_TIMEOUT_S,
    ExpectedContent,
    ProgressBar,
    WeightsDownloadError,
    check_weights_file,
    download_file,
)
from mppe_ros.weights.official import DEFAULT_WEIGHTS, EXPECTED_CONTENT, OFFICIAL_WEIGHTS, OfficialWeights
from mppe_ros.weights.resolve import (
    CHECKOUT_DOWNLOAD_COMMAND,
    DOWNLOAD_COMMAND,
    MIRROR_ENV,
    WeightsFile,
    WeightsNotFoundError,
    WeightsStatus,
    cache_dir,
    cache_path,
    describe_weights,
    detector_file,
    download_command,
    download_files,
    download_hint,
    download_url,
    mirror_url,
    official_file,
    resolve_weights,
    torch_hub_hash,
    torchvision_cache_file,
)

__all__ = [
    "CHECKOUT_DOWNLOAD_COMMAND", "DEFAULT_WEIGHTS", "DOWNLOAD_COMMAND", "DOWNLOAD_TIMEOUT_S", "EXPECTED_CONTENT",
    "MIRROR_ENV", "OFFICIAL_WEIGHTS", "ExpectedContent", "OfficialWeights", "ProgressBar", "WeightsDownloadError",
    "WeightsFile", "WeightsNotFoundError", "WeightsStatus", "cache_dir", "cache_path", "check_weights_file",
    "describe_weights", "detector_file", "download_command", "download_file", "download_files", "download_hint",
    "download_url", "mirror_url", "official_file", "resolve_weights", "torch_hub_hash", "torchvision_cache_file",
]  # fmt: skip
