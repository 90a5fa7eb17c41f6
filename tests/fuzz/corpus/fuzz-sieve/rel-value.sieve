require ["relational", "fileinto"];
if header :value "lt" "subject" "Q" { fileinto "before-q"; }
if header :value "ge" :comparator "i;octet" "subject" "p" { fileinto "octet-ge-p"; }
