"""`mppe-ros process` on the ROS-message side: bags read into rosidl messages, the node's frame path offline, bags
written with rclpy's serialisation (the ROS-free part is mppe_ros.recordings)."""
