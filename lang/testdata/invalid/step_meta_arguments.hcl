# Terraform's meta-arguments on a step: each says what a step takes instead.
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
