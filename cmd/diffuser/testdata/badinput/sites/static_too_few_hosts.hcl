# ok.hcl asks for two servers.
provider "static" {
  hosts "server" {
    addresses = ["10.0.0.1"] # ERROR: Too few hosts in the site file
  }
}
