servers = 3
severs  = 4 # ERROR: Value for undeclared variable
