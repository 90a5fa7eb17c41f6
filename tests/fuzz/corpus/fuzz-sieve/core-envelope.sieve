require ["envelope", "fileinto"];
if envelope :domain "from" "example.org" { fileinto "env-from"; }
if envelope :localpart :is "to" "ann" { fileinto "env-to"; }
