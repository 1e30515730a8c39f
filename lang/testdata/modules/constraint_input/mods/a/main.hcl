variable "port" {
  type    = number
  min     = 1
  max     = 65535
  integer = true
}
step "x" { run = "echo ${var.port}" }
