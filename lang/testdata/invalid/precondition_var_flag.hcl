# VAR: servers=5
recipe "t" {}

variable "servers" {
  type    = number
  default = 4
}

hosts "server" {
  count = var.servers
}

precondition {
  condition     = var.servers % 2 == 0 # ERROR: Recipe precondition failed
  error_message = "servers must be even."
}

step "s" {
  on  = hosts.server
  run = "true"
}
