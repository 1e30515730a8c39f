step "x" {
  on  = hosts.server # ERROR: hosts not available in a module
  run = "true"
}
