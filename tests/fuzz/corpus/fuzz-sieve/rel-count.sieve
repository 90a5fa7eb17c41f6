require ["relational", "fileinto", "comparator-i;ascii-numeric"];
if address :count "ge" :comparator "i;ascii-numeric" ["to", "cc"] "3" { fileinto "three-or-more"; }
if header :count "eq" :comparator "i;ascii-numeric" "x-none" "0" { fileinto "none"; }
