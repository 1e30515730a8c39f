step "page" { run = "echo page" }
step "announce" {
  after = [step.page]
  run   = "echo announce"
}
module "unit" {
  source  = "builtin/systemd-unit"
  name    = "web"
  content = "[Service]\nExecStart=/bin/true\n"
}
