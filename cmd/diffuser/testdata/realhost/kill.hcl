# Twenty quick steps per host, each after the one before on the same host
# (TestRealHost/kill kills `diffuser apply` while they run). Each step
# appends "<step> <attempt>" to runs.log in var.dir on its host, where
# <attempt> is what the test wrote into attempt in the same directory
# before starting that apply, then sleeps so that kills land mid-step.

recipe "realkill" {
  description = "a chain of quick steps per host, for SIGKILL tests"
}

variable "nodes" {
  type        = number
  default     = 3
  description = "hosts to deploy on"
}

variable "dir" {
  type        = string
  default     = "/var/tmp/realkill"
  description = "directory of the run log and the attempt file on every host"
}

hosts "node" {
  count = var.nodes
}

step "s01" {
  on  = hosts.node
  run = "echo \"s01 $(cat ${var.dir}/attempt)\" >> ${var.dir}/runs.log; sleep 0.3"
}

step "s02" {
  on    = hosts.node
  after = [step.s01]
  run   = "echo \"s02 $(cat ${var.dir}/attempt)\" >> ${var.dir}/runs.log; sleep 0.3"
}

step "s03" {
  on    = hosts.node
  after = [step.s02]
  run   = "echo \"s03 $(cat ${var.dir}/attempt)\" >> ${var.dir}/runs.log; sleep 0.3"
}

step "s04" {
  on    = hosts.node
  after = [step.s03]
  run   = "echo \"s04 $(cat ${var.dir}/attempt)\" >> ${var.dir}/runs.log; sleep 0.3"
}

step "s05" {
  on    = hosts.node
  after = [step.s04]
  run   = "echo \"s05 $(cat ${var.dir}/attempt)\" >> ${var.dir}/runs.log; sleep 0.3"
}

step "s06" {
  on    = hosts.node
  after = [step.s05]
  run   = "echo \"s06 $(cat ${var.dir}/attempt)\" >> ${var.dir}/runs.log; sleep 0.3"
}

step "s07" {
  on    = hosts.node
  after = [step.s06]
  run   = "echo \"s07 $(cat ${var.dir}/attempt)\" >> ${var.dir}/runs.log; sleep 0.3"
}

step "s08" {
  on    = hosts.node
  after = [step.s07]
  run   = "echo \"s08 $(cat ${var.dir}/attempt)\" >> ${var.dir}/runs.log; sleep 0.3"
}

step "s09" {
  on    = hosts.node
  after = [step.s08]
  run   = "echo \"s09 $(cat ${var.dir}/attempt)\" >> ${var.dir}/runs.log; sleep 0.3"
}

step "s10" {
  on    = hosts.node
  after = [step.s09]
  run   = "echo \"s10 $(cat ${var.dir}/attempt)\" >> ${var.dir}/runs.log; sleep 0.3"
}

step "s11" {
  on    = hosts.node
  after = [step.s10]
  run   = "echo \"s11 $(cat ${var.dir}/attempt)\" >> ${var.dir}/runs.log; sleep 0.3"
}

step "s12" {
  on    = hosts.node
  after = [step.s11]
  run   = "echo \"s12 $(cat ${var.dir}/attempt)\" >> ${var.dir}/runs.log; sleep 0.3"
}

step "s13" {
  on    = hosts.node
  after = [step.s12]
  run   = "echo \"s13 $(cat ${var.dir}/attempt)\" >> ${var.dir}/runs.log; sleep 0.3"
}

step "s14" {
  on    = hosts.node
  after = [step.s13]
  run   = "echo \"s14 $(cat ${var.dir}/attempt)\" >> ${var.dir}/runs.log; sleep 0.3"
}

step "s15" {
  on    = hosts.node
  after = [step.s14]
  run   = "echo \"s15 $(cat ${var.dir}/attempt)\" >> ${var.dir}/runs.log; sleep 0.3"
}

step "s16" {
  on    = hosts.node
  after = [step.s15]
  run   = "echo \"s16 $(cat ${var.dir}/attempt)\" >> ${var.dir}/runs.log; sleep 0.3"
}

step "s17" {
  on    = hosts.node
  after = [step.s16]
  run   = "echo \"s17 $(cat ${var.dir}/attempt)\" >> ${var.dir}/runs.log; sleep 0.3"
}

step "s18" {
  on    = hosts.node
  after = [step.s17]
  run   = "echo \"s18 $(cat ${var.dir}/attempt)\" >> ${var.dir}/runs.log; sleep 0.3"
}

step "s19" {
  on    = hosts.node
  after = [step.s18]
  run   = "echo \"s19 $(cat ${var.dir}/attempt)\" >> ${var.dir}/runs.log; sleep 0.3"
}

step "s20" {
  on    = hosts.node
  after = [step.s19]
  run   = "echo \"s20 $(cat ${var.dir}/attempt)\" >> ${var.dir}/runs.log; sleep 0.3"
}
