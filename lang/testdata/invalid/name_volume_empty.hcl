recipe "t" {}

hosts "server" {
  volume "" { size_gb = 1 } # ERROR: Invalid volume name
}
