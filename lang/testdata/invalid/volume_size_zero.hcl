recipe "t" {}

hosts "server" {
  volume "brick" {
    size_gb = 0 # ERROR: Value out of range
  }
}
