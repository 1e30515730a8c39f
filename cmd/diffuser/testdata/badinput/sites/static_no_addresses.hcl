# No addresses anywhere: the error points at the group's hosts block.
provider "static" {
  user = "admin"
  hosts "server" { # ERROR: Too few hosts in the site file
    sudo = true
  }
}
