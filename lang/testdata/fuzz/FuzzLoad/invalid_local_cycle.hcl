go test fuzz v1
[]byte("recipe \"t\" {}\n\nlocals {\n  a = \"${local.b}-x\" # ERROR: Cycle in locals\n  b = \"${local.a}-y\"\n}\n")
