# A capture key with a Cyrillic е reads as "key" beside the real one.
recipe "t" {}

hosts "server" {}

step "s" {
  on  = hosts.server
  run = "true"
  capture {
    key = "cat /etc/key"
    kеy = "cat /etc/other" # ERROR: Invalid capture key name
  }
}
