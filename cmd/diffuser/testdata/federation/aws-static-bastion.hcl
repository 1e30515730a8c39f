# Servers on aws without public addresses, lab clients behind a bastion:
# neither side can reach the other.
default_provider = "aws"

provider "aws" {
  region              = "eu-west-1"
  associate_public_ip = false
}

provider "static" {
  user = "root"
  jump = "ops@bastion.example.org"
  hosts "client" {
    addresses = ["10.20.0.10", "10.20.0.11"]
  }
}

hosts "client" {
  provider = static
}
