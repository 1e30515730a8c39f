# STAGE: engine
recipe "t" {}

hosts "server" {
  count = 3
  volume "brick" { size_gb = 10 }
}

output "devices" {
  value = [for h in hosts.server : h.volume.brik.device] # ERROR: Unsupported attribute
}
