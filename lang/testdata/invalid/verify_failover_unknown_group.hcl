recipe "t" {}

hosts "server" {}

hosts "client" {}

verify "failover" {
  on   = hosts.client
  path = "/mnt/gluster"
  failover {
    on    = hosts.sever[1] # ERROR: Unknown host group
    stop  = "systemctl stop glusterd"
    start = "systemctl start glusterd"
  }
}
