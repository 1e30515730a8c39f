packages = "glusterfs-server" # ERROR: Invalid value for variable
