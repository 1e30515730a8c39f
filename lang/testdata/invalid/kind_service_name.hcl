# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "glusterd" {
  on = hosts.server
  service {
    name = "glusterd service" # ERROR: Invalid service name
  }
}
