recipe "fed" {
  description = "one server on the docker provider, clients on the static provider"
}

hosts "server" { count = 1 }
hosts "client" { count = 2 }

step "served" {
  on = hosts.server
  file {
    path    = "/srv/fed/served"
    content = "served by ${host.name} on ${host.provider}\n"
  }
}

step "client_file" {
  on    = hosts.client
  after = [step.served]
  file {
    path    = "/srv/fed/server"
    content = "${reach_ip(host, hosts.server[0])} ${host.provider}\n"
  }
}
