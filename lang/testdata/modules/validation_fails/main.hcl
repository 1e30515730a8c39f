recipe "t" {}
hosts "server" {}
module "svc" {
  source  = "builtin/systemd-unit"
  on      = hosts.server
  name    = "bad name; rm -rf /" # ERROR: Invalid value for module input
  content = "[Service]\nExecStart=/bin/true\n"
}
