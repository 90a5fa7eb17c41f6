require ["fileinto", "relational", "comparator-i;ascii-numeric"];
if header :value "gt" :comparator "i;ascii-numeric" "x-n" "1000000" { fileinto "negative-is-infinity"; }
if header :value "lt" :comparator "i;ascii-numeric" "x-m" "10" { fileinto "leading-digits"; }
