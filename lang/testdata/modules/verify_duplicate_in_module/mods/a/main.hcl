variable "clients" { type = any }
variable "word" { type = string }
step "x" { run = "true" }
verify "rt" {
  on   = var.clients
  path = "/mnt"
}
verify "rt" { # ERROR: Duplicate verify
  on   = var.clients
  path = "/mnt/other"
}
