recipe "t" {}
hosts "server" {}
variable "on" {
  type    = bool
  default = null
}
module "a" {
  source = "./mods/a"
  on     = hosts.server
  lifecycle {
    enabled = var.on # ERROR: Invalid module enabled
  }
}
