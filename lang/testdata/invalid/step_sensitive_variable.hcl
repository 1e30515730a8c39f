recipe "t" {}

variable "secret" { default = true }

hosts "server" {}

step "s" {
  on        = hosts.server
  run       = "true"
  sensitive = var.secret # ERROR: Variables not allowed
}
