provider "cloud" {
  region = "eu-west-1"
  image  = file("../../../../../../etc/hostname") # ERROR: Error in function call
}
