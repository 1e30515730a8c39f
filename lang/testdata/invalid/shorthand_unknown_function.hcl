recipe "t" {}

hosts "server" {}

step "s" {
  on  = hosts.server
  run = "gluster volume create ${joinn(" ", ["a", "b"])}" # ERROR: Call to unknown function
}
