require ["variables", "fileinto", "relational", "comparator-i;ascii-numeric"];
set "empty" "";
set "x" "value";
if string :is "${empty}" "" { fileinto "empty"; }
if string :count "eq" :comparator "i;ascii-numeric" ["${empty}", "${x}", "b"] "2" { fileinto "count2"; }
if string :matches "${x}" "v*e" { fileinto "m-${1}"; }
