recipe "t" {}

hosts "server" {}

step "s" {
  on  = hosts.server
  run = "true"
  precondition {
    condition     = contains(host.facts.capabilites, "net_admin") # ERROR: Unsupported attribute
    error_message = "needs CAP_NET_ADMIN"
  }
}
