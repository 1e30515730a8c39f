# Servers on aws with public addresses, lab clients reached directly: the
# clients reach the servers, so nothing to warn about.
default_provider = "aws"

provider "aws" {
  region = "eu-west-1"
}

provider "static" {
  user = "root"
  hosts "client" {
    addresses = ["198.51.100.10", "198.51.100.11"]
  }
}

hosts "client" {
  provider = static
}
