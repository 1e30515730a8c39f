# One declarative and one run step per host (TestRealHost/hostkey): enough
# to make plan -refresh and apply connect to every host.

recipe "realhostkey" {
  description = "host key pinning on real hosts"
}

hosts "node" {
  count = 2
}

step "stamp" {
  on = hosts.node
  file {
    path    = "/var/tmp/realhostkey-stamp"
    content = "${host.name}\n"
  }
}

step "touch" {
  on    = hosts.node
  after = [step.stamp]
  run   = "echo touch >> /var/tmp/realhostkey-runs.log"
}
