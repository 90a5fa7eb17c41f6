require ["spamtestplus", "fileinto", "relational", "comparator-i;ascii-numeric"];
if spamtest :percent :value "gt" :comparator "i;ascii-numeric" "40" { fileinto "over40"; }
if spamtest :percent :is "50" { fileinto "exactly50"; }
