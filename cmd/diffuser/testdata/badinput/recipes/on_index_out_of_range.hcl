recipe "bad" {}

variable "servers" { default = 2 }

hosts "server" { count = var.servers }

step "volume" {
  on  = hosts.server[var.servers] # ERROR: Invalid index
  run = "true"
}
