debug = "sometimes" # ERROR: Invalid value for variable
