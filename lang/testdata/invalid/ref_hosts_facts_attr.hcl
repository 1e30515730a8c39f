recipe "t" {}

hosts "server" { count = 2 }

output "cores" {
  value = hosts.server[0].facts.cpus # ERROR: Unsupported attribute
}
