# STAGE: engine
recipe "t" {}

hosts "server" { count = 2 }

verify "roundtrip" {
  on   = hosts.server
  path = "/mnt/data"
  failover {
    on    = hosts.server[2] # ERROR: Invalid index
    stop  = "systemctl stop glusterd"
    start = "systemctl start glusterd"
  }
}
