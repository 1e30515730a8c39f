go test fuzz v1
[]byte("recipe \"t\" {}\n\nhosts \"server\" {\n  volume \"brick\" { size_gb = 1 }\n}\n\nstep \"brick\" {\n  on = hosts.server\n  format { # ERROR: Missing required argument\n    devise = host.volume.brick.device # ERROR: Unsupported argument\n    fstype = \"xfs\"\n  }\n}\n")
