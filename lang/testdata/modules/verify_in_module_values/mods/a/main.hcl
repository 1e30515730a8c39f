variable "clients" { type = list(any) }
step "x" { run = "mkdir -p /mnt/x" }
verify "rt" {
  on      = var.clients
  path    = "/mnt/x"
  enabled = length(var.clients) > 0 ? "yes" : "no" # ERROR: Invalid verify enabled
}
verify "rel" {
  on   = var.clients
  path = "mnt/x" # ERROR: Invalid verify path
}
