recipe "t" {}

hosts "server" {}

step "conf" {
  on = hosts.server
  file {
    path    = "/etc/passwd.copy"
    content = file("../../../../etc/passwd") # ERROR: Error in function call
  }
}
