recipe "t" {}

hosts "server" { count = 2 }

output "first" {
  value = hosts.server[0].ip # ERROR: Unsupported attribute
}
