recipe "t" {}

locals {
  clients = length(hosts.client)
}

hosts "client" {}

hosts "server" {
  count = local.clients # ERROR: Value not known yet
}
