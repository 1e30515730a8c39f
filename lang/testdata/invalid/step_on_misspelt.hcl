recipe "t" {}

hosts "server" {}

# A misspelt on is one mistake: the step is not reported as missing its on
# too.
step "conf" {
  o   = hosts.server # ERROR: Unsupported argument
  run = "true"
}
