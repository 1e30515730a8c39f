greeting = "hi"
servers  = -2 # ERROR: Invalid value for variable
