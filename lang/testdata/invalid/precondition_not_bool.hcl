recipe "t" {}

hosts "server" {}

precondition {
  condition     = "maybe" # ERROR: Invalid precondition
  error_message = "never shown."
}

step "s" {
  on  = hosts.server
  run = "true"
}
