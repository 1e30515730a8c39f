# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

step "probe" {
  on  = hosts.server[0]
  run = "gluster peer probe ${hosts.server[5].private_ip}" # ERROR: Invalid index
}
