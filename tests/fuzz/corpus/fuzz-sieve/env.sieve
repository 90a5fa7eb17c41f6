require ["environment", "fileinto", "variables"];
if environment :is "domain" "example.com" { fileinto "domain"; }
if environment :matches "host" "*.example.com" { fileinto "host-${1}"; }
if environment :is "location" "MDA" { fileinto "mda"; }
if environment :contains "nonexistent" "" { fileinto "never"; }
if environment :is "remote-ip" "192.0.2.1" { fileinto "ip"; }
