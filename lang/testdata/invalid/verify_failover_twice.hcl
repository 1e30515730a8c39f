recipe "t" {}

hosts "server" { count = 2 }

hosts "client" {}

verify "failover" {
  on   = hosts.client
  path = "/mnt/gluster"
  failover {
    on    = hosts.server[0]
    stop  = "systemctl stop glusterd"
    start = "systemctl start glusterd"
  }
  failover { # ERROR: Duplicate failover block
    on    = hosts.server[1]
    stop  = "systemctl stop glusterd"
    start = "systemctl start glusterd"
  }
}
