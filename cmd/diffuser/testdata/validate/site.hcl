# validate -json golden case: a warning and two errors in one site file.
default_provider = "static"

provider "static" {
  port      = 99999
  addresses = ["10.0.0.1"]

  hosts "servr" {
    sudo = true
  }
}
