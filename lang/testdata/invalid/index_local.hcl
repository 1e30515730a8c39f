# STAGE: engine
recipe "t" {}

variable "servers" {
  type    = number
  default = 2
}

hosts "server" { count = var.servers }

locals {
  last = hosts.server[var.servers].private_ip # ERROR: Invalid index
}

step "probe" {
  on  = hosts.server[0]
  run = "ping -c1 ${local.last}"
}
