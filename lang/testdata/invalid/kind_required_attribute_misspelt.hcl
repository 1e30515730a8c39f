recipe "t" {}

hosts "server" {}

# A misspelt required argument is one mistake: the argument it was meant
# for is not reported missing too.
step "conf" {
  on = hosts.server
  file {
    path    = "/etc/app.conf"
    contnet = "x" # ERROR: Unsupported argument
  }
}
