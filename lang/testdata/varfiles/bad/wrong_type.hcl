servers = "three" # ERROR: Invalid value for variable
