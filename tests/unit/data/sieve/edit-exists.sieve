require ["editheader", "fileinto"];
deleteheader "x-tag";
if not exists "x-tag" { fileinto "gone"; }
addheader "X-New" "v";
if header :count "eq" :comparator "i;ascii-numeric" "x-new" "1" { fileinto "never-no-relational"; }
