provider "cloud" {
  region = var.region # ERROR: Variables not allowed
}
