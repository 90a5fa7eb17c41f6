require ["spamtest", "fileinto", "relational", "comparator-i;ascii-numeric"];
if spamtest :is "0" { fileinto "untested"; }
