variable "name" {
  type    = string
  default = "x"
}
step "x" { run = "echo ${var.nmae}" } # ERROR: Unknown variable
