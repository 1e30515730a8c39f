provider "static" {
  user = "admin"
}

provider "static" { # ERROR: Duplicate provider block
  user = "root"
}
