recipe "t" {}

hosts "server" {
  count = 2
  volume "brick" { size_gb = 10 }
}

output "device" {
  value = hosts.server[0].volume.bricks.device # ERROR: Unknown volume
}
