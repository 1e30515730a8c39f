variables {
  servers = "two" # ERROR: Invalid value for variable
}
