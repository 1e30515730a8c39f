provider "cloud" {
  region = "eu-west-1"
}

provider "cloud" { # ERROR: Duplicate provider block
  region = "us-east-1"
}
