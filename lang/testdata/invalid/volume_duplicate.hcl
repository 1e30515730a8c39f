recipe "t" {}

hosts "server" {
  volume "brick" { size_gb = 1 }
  volume "brick" { size_gb = 2 } # ERROR: Duplicate volume
}
