recipe "t" {}

hosts "server" {
  count = 2
}

precondition {
  condition     = length(hosts.server) > 1 # ERROR: hosts not available here
  error_message = "two servers at least."
}

step "s" {
  on  = hosts.server
  run = "true"
}
