# tiny.hcl after a refactoring (TestStateMvDocker): its group node is now
# box and its step hello is now greeting. Nothing asked of the machine
# differs, so after diffuser state mv the plan is a no-op.

recipe "tiny" {
  description = "the smallest real deploy"
}

hosts "box" {
  count = 1
}

step "greeting" {
  on  = hosts.box
  run = "echo hello > /var/tmp/hello"
}
