variable "clients" { type = any }
variable "word" { type = string }
step "x" { run = "true" }
verify "direct" {
  on   = hosts.client # ERROR: hosts not available in a module
  path = "/mnt"
}
verify "no_hosts" {
  on   = var.word # ERROR: on names no hosts
  path = "/mnt"
}
verify "unknown" {
  on   = var.clients
  path = local.mnt # ERROR: Unknown local value
}
verify "failover_step" {
  on   = var.clients
  path = "/mnt"
  failover {
    on    = var.clients
    stop  = step.y.stdout # ERROR: Unknown step
    start = "true"
  }
}
