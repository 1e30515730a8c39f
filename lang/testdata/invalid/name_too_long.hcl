recipe "t" {}

hosts "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" { count = 1 } # ERROR: Invalid hosts name

hosts "server" {
  count = 1
  volume "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv" { size_gb = 1 } # ERROR: Invalid volume name
}

step "sssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssssss" { # ERROR: Invalid step name
  on = hosts.server
  run = "true"
}
