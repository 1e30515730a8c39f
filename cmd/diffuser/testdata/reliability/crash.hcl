# Three hosts, twelve quick steps each, each after the one before on the
# same host (crash-safety tests kill `diffuser apply` while they run). Every
# step appends "<step> <nanoseconds since the epoch>" to the run log on its
# host when it starts, so the test can tell which apply ran it.

recipe "crash" {
  description = "a cheap real deploy for SIGKILL tests: three containers, twelve quick steps each"
}

variable "nodes" {
  type        = number
  default     = 3
  description = "hosts to launch"
}

hosts "node" {
  count = var.nodes
}

locals {
  log = "/var/lib/diffuser-crash/runs.log"
}

step "s01" {
  on  = hosts.node
  run = "mkdir -p /var/lib/diffuser-crash && echo \"s01 $(date +%s%N)\" >> ${local.log}; sleep 0.2"
}

step "s02" {
  on    = hosts.node
  after = [step.s01]
  run   = "echo \"s02 $(date +%s%N)\" >> ${local.log}; sleep 0.2"
}

step "s03" {
  on    = hosts.node
  after = [step.s02]
  run   = "echo \"s03 $(date +%s%N)\" >> ${local.log}; sleep 0.2"
}

step "s04" {
  on    = hosts.node
  after = [step.s03]
  run   = "echo \"s04 $(date +%s%N)\" >> ${local.log}; sleep 0.2"
}

step "s05" {
  on    = hosts.node
  after = [step.s04]
  run   = "echo \"s05 $(date +%s%N)\" >> ${local.log}; sleep 0.2"
}

step "s06" {
  on    = hosts.node
  after = [step.s05]
  run   = "echo \"s06 $(date +%s%N)\" >> ${local.log}; sleep 0.2"
}

step "s07" {
  on    = hosts.node
  after = [step.s06]
  run   = "echo \"s07 $(date +%s%N)\" >> ${local.log}; sleep 0.2"
}

step "s08" {
  on    = hosts.node
  after = [step.s07]
  run   = "echo \"s08 $(date +%s%N)\" >> ${local.log}; sleep 0.2"
}

step "s09" {
  on    = hosts.node
  after = [step.s08]
  run   = "echo \"s09 $(date +%s%N)\" >> ${local.log}; sleep 0.2"
}

step "s10" {
  on    = hosts.node
  after = [step.s09]
  run   = "echo \"s10 $(date +%s%N)\" >> ${local.log}; sleep 0.2"
}

step "s11" {
  on    = hosts.node
  after = [step.s10]
  run   = "echo \"s11 $(date +%s%N)\" >> ${local.log}; sleep 0.2"
}

step "s12" {
  on    = hosts.node
  after = [step.s11]
  run   = "echo \"s12 $(date +%s%N)\" >> ${local.log}; sleep 0.2"
}
