recipe "t" {}

hosts "server" {}

step "s" {
  on  = hosts.server
  run = "true"
  capture { a = "echo a" }
  capture { b = "echo b" } # ERROR: Duplicate capture block
}
