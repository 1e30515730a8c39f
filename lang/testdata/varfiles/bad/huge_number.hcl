servers = 3
replica = 1e400 # ERROR: Invalid value for variable
