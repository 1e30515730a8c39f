# ERROR(line 11): Unterminated template string
recipe "t" {}

hosts "server" {}

step "s" {
  on  = hosts.server
  run = <<-EOT
    echo hello
}
