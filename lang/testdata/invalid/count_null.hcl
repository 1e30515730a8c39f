recipe "t" {}

hosts "server" {
  count = null # ERROR: Expected a number
}
