require ["imap4flags", "fileinto", "variables", "relational", "comparator-i;ascii-numeric"];
setflag "myflags" ["$A", "$B"];
if hasflag "myflags" "$b" { fileinto "has-b"; }
if hasflag :count "ge" :comparator "i;ascii-numeric" "myflags" "2" { fileinto "two"; }
if hasflag "$A" { fileinto "internal"; }
