recipe "t" {}

variable "where" { default = "server" }

hosts "server" {}

step "s" {
  on  = var.where # ERROR: on names no hosts
  run = "true"
}
