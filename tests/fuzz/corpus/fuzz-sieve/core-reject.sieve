require "reject";
if header :contains "subject" "status" { reject "I do not want status reports."; }
