# One host and one step (TestReliabilityDocker/isolation applies it in two
# workspaces and destroys one).

recipe "tiny" {
  description = "the smallest real deploy"
}

hosts "node" {
  count = 1
}

step "hello" {
  on  = hosts.node
  run = "echo hello > /var/tmp/hello"
}
