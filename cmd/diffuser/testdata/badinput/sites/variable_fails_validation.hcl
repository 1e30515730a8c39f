variables {
  servers = 0 # ERROR: Invalid value for variable
}
