# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "config" {
  on = hosts.server
  file {
    path    = "/etc/app.conf"
    content = "x"
    mode    = "rw-r--r--" # ERROR: Invalid file mode
  }
}
