variable "given" { type = string }
step "ok" {
  run = "echo ${shellquote(var.given)} ${shellquote(file("own.txt"))}"
}
step "up" {
  run = "echo ${shellquote(file("../../top.txt"))}" # ERROR: Error in function call
}
step "beside" {
  run = "echo ${shellquote(file("top.txt"))}" # ERROR: Error in function call
}
