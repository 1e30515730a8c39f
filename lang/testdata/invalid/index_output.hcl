# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

output "third" {
  value = hosts.server[2].private_ip # ERROR: Invalid index
}
