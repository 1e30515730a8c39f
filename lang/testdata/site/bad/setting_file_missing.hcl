provider "cloud" {
  region = "eu-west-1"
  image  = file("no-such-image.txt") # ERROR: Error in function call
}
