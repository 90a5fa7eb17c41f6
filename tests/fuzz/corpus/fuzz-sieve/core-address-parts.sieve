require "fileinto";
if address :localpart "to" "bob+lists" { fileinto "localpart"; }
if address :domain :is "cc" "EXAMPLE.COM" { fileinto "domain"; }
if address :all "from" "sender@example.org" { fileinto "all"; }
