# STAGE: engine
recipe "t" {}

hosts "metalogger" { count = 0 }

step "metalogger" {
  on = hosts.metalogger
  service {
    name  = "moosefs-metalogger"
    state = "enabled" # ERROR: Invalid service state
  }
}
