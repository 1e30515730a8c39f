variable "mode" {
  type    = string
  default = "nfs" # ERROR: Default breaks the variable's constraints
  one_of  = ["fuse", "kernel"]
}
step "x" { run = "echo ${var.mode}" }
