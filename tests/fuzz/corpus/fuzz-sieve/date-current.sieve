require ["date", "fileinto", "relational", "variables"];
if currentdate :zone "+0000" :value "ge" "date" "2023-01-01" { fileinto "after"; }
if currentdate :zone "+0100" "time" "*" { }
if currentdate :zone "+0100" :matches "time" "*" { fileinto "t-${1}"; }
if currentdate :matches "zone" "*" { fileinto "local-${0}"; }
