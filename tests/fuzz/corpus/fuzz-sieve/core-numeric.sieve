require ["fileinto", "comparator-i;ascii-numeric", "relational"];
if header :is :comparator "i;ascii-numeric" "x-n" "42" { fileinto "is42"; }
if header :value "gt" :comparator "i;ascii-numeric" "x-n" "100" { fileinto "gt100"; }
if header :value "gt" :comparator "i;ascii-numeric" "x-word" "999999" { fileinto "infinity"; }
if header :is :comparator "i;ascii-numeric" "x-word" "abc" { fileinto "inf-eq-inf"; }
