# One recipe over two aws regions: servers in one, clients in the other,
# both with public addresses.
provider "aws" {
  alias  = "east"
  region = "us-east-1"
}

provider "aws" {
  alias  = "west"
  region = "us-west-2"
}

hosts "server" {
  provider = aws.east
}

hosts "client" {
  provider = aws.west
}
