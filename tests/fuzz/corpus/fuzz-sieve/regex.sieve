require ["regex", "fileinto", "variables"];
if header :regex "subject" "^Project (s[a-z]+)$" { fileinto "rx-${1}"; }
if address :regex :comparator "i;octet" "from" "^SENDER@" { fileinto "never-octet"; }
if address :regex "from" "^SENDER@" { fileinto "casemap"; }
