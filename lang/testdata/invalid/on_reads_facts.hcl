# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

# Which hosts a step runs on must be known when planning; facts are known
# only once the hosts exist.
step "debian_only" {
  on  = hosts.server[0].facts.os.family == "debian" ? hosts.server : [] # ERROR: on not known before apply
  run = "true"
}
