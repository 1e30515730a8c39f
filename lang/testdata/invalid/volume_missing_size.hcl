recipe "t" {}

hosts "server" {
  volume "brick" {} # ERROR: Missing required argument
}
