recipe "t" {}

hosts "server" {
  volume "data" { size_gb = host.index + 1 } # ERROR: host not available here
}
