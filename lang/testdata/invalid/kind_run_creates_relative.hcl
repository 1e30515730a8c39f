# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "init" {
  on      = hosts.server
  run     = "touch /var/lib/app/done"
  creates = "done" # ERROR: Invalid run creates
}
