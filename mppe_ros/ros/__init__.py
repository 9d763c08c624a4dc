"""The ROS 2 adapter: the node, its parameters, synchronizer, message conversions and markers.

The only part of mppe_ros that may import rclpy, message packages, cv_bridge or message_filters.
"""
