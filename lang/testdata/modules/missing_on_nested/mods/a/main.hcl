step "x" { run = "true" } # ERROR: Missing on
step "y" { run = "true" }
module "unit" {
  source  = "builtin/systemd-unit"
  name    = "d"
  content = "[Service]\nExecStart=/bin/true\n"
}
