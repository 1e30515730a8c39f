step "hello" {
  on  = hosts.server
  run = "echo ${local.greeting}" # ERROR: Unknown local value
}
