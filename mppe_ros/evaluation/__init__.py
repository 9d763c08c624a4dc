"""The paper's evaluation protocols (MuPoTS-3D 3DPCK and AP_root, Human3.6M MPJPE / PA-MPJPE and MRPE), ported
from the official code, with readers of the data sets' files and the official MuPoTS-3D prediction files.

Modules: mupots_protocol (matching, bone rescale, per-joint errors, PCK/AUC), mupots_summary (tables per
sequence and total), ap_root, h36m_protocol, mupots_data / h36m_data (readers), prediction_files (the .mat
interchange), runner (PoseNet on given boxes with the flip test), report (Markdown and JSON). No ROS.
"""
