recipe "t" {}

hosts "server" { count = 2 }

step "keygen" {
  on  = hosts.server[0]
  run = "ceph-authtool --gen-print-key > /etc/key"
}

output "key" {
  value = step.keygen.outputs.key # ERROR: Unknown step output
}
