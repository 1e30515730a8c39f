# Terraform's meta-arguments and Ansible's task keywords on a step: each says
# what a step takes instead.
recipe "t" {}
hosts "server" { count = 2 }
step "a" {
  on  = hosts.server
  run = "true"
}
step "b" {
  on         = hosts.server
  depends_on = [step.a] # ERROR: Unsupported argument
  count      = 2 # ERROR: Unsupported argument
  for_each   = toset(["x"]) # ERROR: Unsupported argument
  run        = "true"
}
step "c" {
  on     = hosts.server
  notify = [step.a] # ERROR: Unsupported argument
  when   = true # ERROR: Unsupported argument
  become = true # ERROR: Unsupported argument
  tags   = ["x"] # ERROR: Unsupported argument
  run    = "true"
}
