recipe "t" {}

hosts "server" {}

output "device" {
  value = host.volume.brick.device # ERROR: host not available here
}
