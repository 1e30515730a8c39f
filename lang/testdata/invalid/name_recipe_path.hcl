recipe "../../etc" {} # ERROR: Invalid recipe name
