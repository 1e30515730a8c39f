# An input set from host is fine for a built-in module whose output
# reads it (systemd-unit's unit), as long as nobody reads that output:
# reading it is the error, where it is read.
recipe "t" {}
hosts "node" { count = 2 }
module "u" {
  source  = "builtin/systemd-unit"
  on      = hosts.node
  name    = "x-${host.hostname}"
  content = "[Service]\nExecStart=/bin/sleep infinity\n"
}
step "report" {
  on  = hosts.node
  run = "echo ${module.u.unit}" # ERROR: Value differs per host
}
output "unit" {
  value = module.u.unit # ERROR: Value differs per host
}
