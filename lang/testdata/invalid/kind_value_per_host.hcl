# STAGE: engine
recipe "t" {}

hosts "server" { count = 3 }

step "glusterd" {
  on = hosts.server
  service {
    name  = "glusterd"
    state = host.index == 2 ? "startd" : "started" # ERROR: Invalid service state
  }
}
