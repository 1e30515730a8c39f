recipe "t" {}

hosts "server" {}

output "mount" { value = "${hosts.server[0].private_ip}:/gv0" }

output "mount" { value = "${hosts.server[0].private_ip}:/gv1" } # ERROR: Duplicate output
