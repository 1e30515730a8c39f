# Addresses, users, jump hosts and devices that a shell or ssh would read
# as more than data.
provider "static" {
  addresses = [
    "10.0.0.1;reboot",   # ERROR: Invalid address
    "-oProxyCommand=sh", # ERROR: Invalid address
  ]
  jump = "-F/tmp/cfg@bastion" # ERROR: Invalid jump host
  volumes = {
    data = "/dev/sdb;mkfs.xfs /dev/sda" # ERROR: Invalid device
  }
}
