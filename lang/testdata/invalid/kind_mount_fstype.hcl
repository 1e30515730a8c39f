# STAGE: engine
recipe "t" {}

hosts "client" {}

step "mount" {
  on = hosts.client
  mount {
    source = "server:/export"
    target = "/mnt/nfs"
    fstype = "nfs -o vers=4" # ERROR: Invalid mount fstype
  }
}
