# Static hosts for the bad-input cases that plan: enough addresses and
# devices for ok.hcl and the recipes the tests write, so that each case
# fails for its own reason only. Nothing here is ever dialled.
provider "static" {
  addresses = ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"]
  volumes   = { data = "/dev/sdb" }
}
