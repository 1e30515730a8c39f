# STAGE: engine
recipe "t" {}

hosts "server" { count = 3 }

step "config" {
  on = hosts.server
  file {
    path    = "etc/${host.hostname}.conf" # ERROR: Invalid file path
    content = "x"
  }
}
