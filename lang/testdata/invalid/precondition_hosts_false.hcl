recipe "t" {}

variable "servers" {
  type    = number
  default = 3
}

variable "replica" {
  type    = number
  default = 2
}

locals {
  sets = var.servers / var.replica
}

hosts "server" {
  count = var.servers
  precondition {
    condition     = floor(local.sets) == local.sets # ERROR: Precondition of hosts "server" failed
    error_message = "servers must be a multiple of replica."
  }
}

step "s" {
  on  = hosts.server
  run = "true"
}
