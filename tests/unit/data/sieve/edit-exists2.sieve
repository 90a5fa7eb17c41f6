require ["editheader", "fileinto", "relational", "comparator-i;ascii-numeric"];
deleteheader "x-tag";
if not exists "x-tag" { fileinto "gone"; }
addheader "X-New" "v";
addheader :last "X-New" "w";
if header :count "eq" :comparator "i;ascii-numeric" "x-new" "2" { fileinto "two-new"; }
