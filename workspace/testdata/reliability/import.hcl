# The target of TestImportDocker: one server whose machine is imported
# from another workspace (tiny.hcl's node), a step found done on it by its
# guard, and a package that the apply after the import installs.

recipe "imported" {
  description = "a host taken over with diffuser import"
}

hosts "server" {
  count = 1
}

step "hello" {
  on      = hosts.server
  run     = "echo hello > /var/tmp/hello"
  creates = "/var/tmp/hello"
}

step "tools" {
  on      = hosts.server
  package = ["tree"]
}
