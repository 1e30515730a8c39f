recipe "motd" {
  description = "A login banner and a service that refreshes it"
}

variable "banner" {
  type    = string
  default = "welcome"
}

hosts "node" {
  count = 2
}

module "motd" {
  source = "./modules/motd"
  on     = hosts.node
  banner = var.banner
}
