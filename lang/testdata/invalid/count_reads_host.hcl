recipe "t" {}

hosts "server" {
  count = host.index # ERROR: host not available here
}
