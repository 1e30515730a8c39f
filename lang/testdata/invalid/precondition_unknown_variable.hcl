recipe "t" {}

variable "servers" {
  default = 2
}

hosts "server" {
  count = var.servers
}

precondition {
  condition     = var.server > 0 # ERROR: Unknown variable
  error_message = "at least one server, ${var.servers}."
}

step "s" {
  on  = hosts.server
  run = "true"
}
