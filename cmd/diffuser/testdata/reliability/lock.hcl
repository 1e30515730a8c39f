# Two hosts with four one-second steps each (TestReliabilityStatic/lock
# holds the workspace lock with it while other commands try theirs).

recipe "lockhold" {
  description = "an apply that takes a few seconds"
}

variable "dir" {
  type        = string
  default     = "/var/tmp/diffuser-lock"
  description = "directory of the run log on every host"
}

hosts "node" {
  count = 2
}

step "a" {
  on  = hosts.node
  run = "mkdir -p ${var.dir} && echo a >> ${var.dir}/runs.log; sleep 1"
}

step "b" {
  on    = hosts.node
  after = [step.a]
  run   = "echo b >> ${var.dir}/runs.log; sleep 1"
}

step "c" {
  on    = hosts.node
  after = [step.b]
  run   = "echo c >> ${var.dir}/runs.log; sleep 1"
}

step "d" {
  on    = hosts.node
  after = [step.c]
  run   = "echo d >> ${var.dir}/runs.log; sleep 1"
}
