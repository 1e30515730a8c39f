recipe "t" {}

hosts "server" {
  count = 2
}

locals {
  first_ip = hosts.server[0].private_ip
}

precondition {
  condition     = local.first_ip != "" # ERROR: Value not known yet
  error_message = "no address."
}

step "s" {
  on  = hosts.server
  run = "true"
}
