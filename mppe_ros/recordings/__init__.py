"""Recordings without ROS: what an input is, video and image-folder frames, camera YAML, summaries, JSON lines,
progress and the Ray fan-out of `mppe-ros process` (the ROS-message part is mppe_ros.ros.recording)."""
