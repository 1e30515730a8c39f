module "unit" {
  source  = "builtin/systemd-unit"
  name    = "web"
  content = "[Service]\nExecStart=/bin/true\n"
  colour  = "red" # ERROR: Unknown module input
}
