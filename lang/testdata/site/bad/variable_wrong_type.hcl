variables {
  packages = { name = "glusterfs" } # ERROR: Invalid value for variable
}
