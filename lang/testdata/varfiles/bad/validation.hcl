replica = 1
servers = 100 # ERROR: Invalid value for variable
