variables {
  servers  = 2
  replicas = 2 # ERROR: Value for undeclared variable
}
