require ["editheader", "fileinto"];
addheader "X-Sieve" "filtered";
addheader :last "X-Note" "Grüße aus Köln";
if header :is "x-sieve" "filtered" { fileinto "sees-own-edit"; }
