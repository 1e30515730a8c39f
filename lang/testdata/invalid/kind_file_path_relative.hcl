# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "config" {
  on = hosts.server
  file {
    path    = "etc/app.conf" # ERROR: Invalid file path
    content = "x"
  }
}
