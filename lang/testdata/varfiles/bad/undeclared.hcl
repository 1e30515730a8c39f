servers = 3
sevrers = 4 # ERROR: Value for undeclared variable
