require "fileinto";
if header :contains "subject" "Grüße" { fileinto "decoded"; }
if address :is "from" "jose@example.org" { fileinto "addr"; }
