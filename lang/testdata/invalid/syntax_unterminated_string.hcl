recipe "t" {}

hosts "server" {}

step "s" {
  on  = hosts.server
  run = "echo hello # ERROR: Unterminated template string # ERROR: Invalid multi-line string
} # ERROR: Invalid multi-line string
