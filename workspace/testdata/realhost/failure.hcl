# A step that fails on some hosts only (TestRealHost/failure). Every run
# step appends its name to /var/tmp/realfail/runs.log on its host, so the
# test can count what ran where, before and after the fix.

recipe "realfail" {
  description = "failure isolation and resume on real hosts"
}

variable "broken_hosts" {
  type        = list(string)
  default     = ["node[1]"]
  description = "hosts on which the flaky step fails; [] fixes it"
}

hosts "node" {
  count = 3
}

locals {
  log = "/var/tmp/realfail/runs.log"
}

step "first" {
  on  = hosts.node
  run = "mkdir -p /var/tmp/realfail && echo first >> ${local.log}"
}

# Only the failing host's command changes when broken_hosts does, so fixing
# it re-runs nothing that finished elsewhere.
step "flaky" {
  on    = hosts.node
  after = [step.first]
  run   = <<-EOT
    echo flaky >> ${local.log}
    echo "checking the disk of ${host.name}"
    %{ if contains(var.broken_hosts, host.name) ~}
    echo "no space left on ${host.name}" >&2
    exit 3
    %{ endif ~}
  EOT
}

step "after_flaky" {
  on    = hosts.node
  after = [step.flaky]
  run   = "echo after_flaky >> ${local.log}"
}

step "independent" {
  on    = hosts.node
  after = [step.first]
  run   = "sleep 1; echo independent >> ${local.log}"
}

step "gather" {
  on        = hosts.node[0]
  after_all = [step.flaky]
  run       = "echo gather >> ${local.log}"
}
