recipe "t" {}

hosts "server" { count = 2 }

step "keygen" {
  on  = hosts.server[0]
  run = "ceph-authtool --gen-print-key > /etc/key"
  capture {
    key = "cat /etc/key"
  }
}

step "use" {
  on  = hosts.server
  run = "echo ${step.keygen.outputs.kee}" # ERROR: Unknown step output
}
