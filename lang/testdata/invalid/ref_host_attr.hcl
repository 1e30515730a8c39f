recipe "t" {}

hosts "server" { count = 2 }

step "peer" {
  on  = hosts.server
  run = "echo ${host.privat_ip}" # ERROR: Unsupported attribute
}
