recipe "t" {}

hosts "server" {}

locals {
  size = 1
  sizé = 2 # ERROR: Invalid local value name
}

step "s" {
  on  = hosts.server
  run = "echo ${local.size}"
}
