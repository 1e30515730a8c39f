module "a_again" {
  source = "../a" # ERROR: Module includes itself
}
