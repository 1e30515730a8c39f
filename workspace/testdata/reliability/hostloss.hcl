# Two servers with a chain of slow steps each (TestReliabilityDocker/host
# loss stops server[1]'s container in the middle of it). Every run step
# appends its name to a run log on its host; verify writes and reads back a
# file in a plain directory on server[1].

recipe "hostloss" {
  description = "a host lost mid-apply: independent work finishes, the lost host resumes"
}

hosts "server" {
  count = 2
}

locals {
  log = "/var/lib/diffuser-hostloss/runs.log"
}

step "prep" {
  on  = hosts.server
  run = "mkdir -p /srv/data /var/lib/diffuser-hostloss && echo prep >> ${local.log}"
}

step "s1" {
  on    = hosts.server
  after = [step.prep]
  run   = "echo s1 >> ${local.log}; sleep 1"
}

step "s2" {
  on    = hosts.server
  after = [step.s1]
  run   = "echo s2 >> ${local.log}; sleep 1"
}

step "s3" {
  on    = hosts.server
  after = [step.s2]
  run   = "echo s3 >> ${local.log}; sleep 4"
}

step "s4" {
  on    = hosts.server
  after = [step.s3]
  run   = "echo s4 >> ${local.log}; sleep 1"
}

step "ready" {
  on    = hosts.server
  after = [step.s4]
  file {
    path    = "/srv/data/ready"
    content = "${host.name}\n"
  }
}

step "cluster" {
  on        = hosts.server[0]
  after_all = [step.ready]
  run       = "echo cluster >> ${local.log}"
}

verify "data" {
  on   = hosts.server[1]
  path = "/srv/data"
}
