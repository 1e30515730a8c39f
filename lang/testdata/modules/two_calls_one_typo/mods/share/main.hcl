step "page" { run = "echo page" }
step "announce" {
  restart_onn = [step.page] # ERROR: Unsupported argument
  run         = "echo announce"
}
