recipe "t" {}

hosts "client" {}

hosts "server" {
  count = length(hosts.client) # ERROR: hosts not available here
}
