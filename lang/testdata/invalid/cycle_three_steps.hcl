# STAGE: engine
recipe "t" {}

hosts "server" {}

step "packages" {
  on      = hosts.server
  after   = [step.service]
  package = ["glusterfs-server"]
}

step "config" { # ERROR: Cycle between steps
  on    = hosts.server
  after = [step.packages]
  run   = "true"
}

step "service" {
  on    = hosts.server
  after = [step.config]
  service { name = "glusterd" }
}
