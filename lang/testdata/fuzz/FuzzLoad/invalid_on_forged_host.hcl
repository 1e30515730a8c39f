go test fuzz v1
[]byte("# STAGE: engine\nrecipe \"t\" {}\n\nhosts \"server\" {}\n\nstep \"s\" {\n  on  = [hosts.server[0], { name = 1, private_ip = \"10.0.0.9\" }] # ERROR: Invalid on\n  run = \"true\"\n}\n")
