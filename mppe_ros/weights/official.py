"""The released 3DMPPE weight files: their names, official links, download URLs, and what each file must hold.

OFFICIAL_WEIGHTS: every released PoseNet and RootNet file (name -> OfficialWeights); DEFAULT_WEIGHTS: the
(PoseNet, RootNet) pair of a joint set; EXPECTED_CONTENT: the keys and shapes a downloaded file of a network must have
(checked by mppe_ros.weights.download before it is renamed into place). Where a file is found: mppe_ros.weights.resolve.
"""

from __future__ import annotations

from dataclasses import dataclass

from mppe_ros.weights.download import ExpectedContent

_CONV1 = (64, 3, 7, 7)  # the ResNet-50 stem of every network here
# network -> what a downloaded file of it must hold (checked before it is renamed into place).
EXPECTED_CONTENT: dict[str, ExpectedContent] = {
    "posenet": ExpectedContent(
        "a 3DMPPE PoseNet checkpoint", {"backbone.conv1.weight": _CONV1, "head.final_layer.bias": None}
    ),
    "rootnet": ExpectedContent(
        "a 3DMPPE RootNet checkpoint", {"backbone.conv1.weight": _CONV1, "root.depth_layer.weight": (1, 2048, 1, 1)}
    ),
    "detector": ExpectedContent(  # keys every torchvision R-CNN detector has (ResNet-50 or MobileNetV3 trunk)
        "a torchvision COCO detector state_dict",
        {
            "rpn.head.conv.0.0.weight": None,
            "roi_heads.box_predictor.cls_score.weight": (91, 1024),
            "roi_heads.box_predictor.bbox_pred.weight": (364, 1024),
        },
    ),
}


@dataclass(frozen=True)
class OfficialWeights:
    """One released weight file.

    Attributes:
        name: key in OFFICIAL_WEIGHTS and cache subdirectory.
        network: "posenet" or "rootnet"; the `<network>_path` setting overrides the file.
        filename: released file name.
        joint_set: joint set of a PoseNet's output (mppe_ros.joint_sets); None for RootNet.
        link: official page to download the file by hand (the file, or the folder of all models).
        download_url: direct download URL, None when only a folder link is published.
        description: training data and use.
    """

    name: str
    network: str
    filename: str
    joint_set: str | None
    link: str
    download_url: str | None
    description: str


def _drive_file(file_id: str) -> tuple[str, str]:
    """(view link, direct download URL) of a shared Google Drive file."""
    return (
        f"https://drive.google.com/file/d/{file_id}/view?usp=sharing",
        f"https://drive.google.com/uc?export=download&id={file_id}&confirm=t",
    )


_POSENET_FOLDER = "https://drive.google.com/drive/folders/1El3qfdtgttO90X25k_680V2UCDv_TPoJ?usp=sharing"
_ROOTNET_FOLDER = "https://drive.google.com/drive/folders/1oGXqscxZpakld6j4Lj4hEDy8DCnh9cAs?usp=sharing"
_FOLDER_NOTE = "in the folder of all pre-trained models (no per-file link is published)"

OFFICIAL_WEIGHTS: dict[str, OfficialWeights] = {
    entry.name: entry
    for entry in (
        OfficialWeights(
            "posenet_muco", "posenet", "snapshot_24.pth.tar", "muco_21",
            *_drive_file("1xjefKgjsH-W8v2lVn1Hbwzp2_Su7KtG0"),
            "PoseNet, MuCo-3DHP + MSCOCO, 21 joints: the demo model",
        ),
        OfficialWeights(
            "rootnet_muco", "rootnet", "snapshot_18.pth.tar", None,
            *_drive_file("1ZHoXNFxBBsmis-5Xzu7dfXYGNxjpntgt"),
            "RootNet, MuCo-3DHP + MSCOCO: the demo model",
        ),
        OfficialWeights(
            "posenet_h36m_p1", "posenet", "snapshot_24.pth.tar", "h36m_18", _POSENET_FOLDER, None,
            f"PoseNet, Human3.6M Protocol 1 + MPII, 18 joints, {_FOLDER_NOTE}",
        ),
        OfficialWeights(
            "posenet_h36m_p2", "posenet", "snapshot_24.pth.tar", "h36m_18", _POSENET_FOLDER, None,
            f"PoseNet, Human3.6M Protocol 2 + MPII, 18 joints, {_FOLDER_NOTE}",
        ),
        OfficialWeights(
            "rootnet_h36m_p1", "rootnet", "snapshot_19.pth.tar", None, _ROOTNET_FOLDER, None,
            f"RootNet, Human3.6M Protocol 1 + MPII, {_FOLDER_NOTE}",
        ),
        OfficialWeights(
            "rootnet_h36m_p2", "rootnet", "snapshot_7.pth.tar", None, _ROOTNET_FOLDER, None,
            f"RootNet, Human3.6M Protocol 2 + MPII, {_FOLDER_NOTE}",
        ),
    )
}  # fmt: skip

# (PoseNet, RootNet) used for a joint set; Human3.6M: Protocol 1 (trained on more subjects).
DEFAULT_WEIGHTS: dict[str, tuple[str, str]] = {
    "muco_21": ("posenet_muco", "rootnet_muco"),
    "h36m_18": ("posenet_h36m_p1", "rootnet_h36m_p1"),
}
