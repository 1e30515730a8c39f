step "x" { run = "true" }
module "up" {
  source = "../.." # ERROR: Module includes itself
}
