variables {
  servers = 3
  brick   = 10 # ERROR: Value for undeclared variable
}
