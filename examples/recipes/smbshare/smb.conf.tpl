# Written by diffuser (recipe smbshare).
[global]
   workgroup = WORKGROUP
   server role = standalone server
   log level = ${log_level}
   map to guest = never
   max smbd processes = ${cores * 64}
%{ if hosts_allow != "" ~}
   hosts allow = ${hosts_allow} 127.0.0.1
%{ endif ~}

[${share}]
   path = ${path}
   read only = no
   valid users = ${user}
   create mask = 0664
