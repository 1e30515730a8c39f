variable "dev" {
  type = string
}
module "data" {
  source = "builtin/xfs-volume"
  device = var.dev
  target = "/data"
}
