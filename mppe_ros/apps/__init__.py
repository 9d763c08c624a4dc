"""The programs: the `mppe-ros` command line, the demo graph and the process entry points."""
