recipe "t" {}
hosts "server" {}
module "svc" {
  source  = "builtin/systemd-unit"
  on      = hosts.server
  name    = "demo"
  state   = "running" # ERROR: Invalid value for module input
  content = "[Service]\nExecStart=/bin/true\n"
}
