recipe "bad" {}

variable "token" { # ERROR: Missing variable
  type      = string
  sensitive = true
}

hosts "server" {}

step "join" {
  on  = hosts.server
  run = "join ${var.token}"
}
