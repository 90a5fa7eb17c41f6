require "fileinto";
if header :is "subject" "nope" { fileinto "one"; }
elsif false { fileinto "two"; }
else { fileinto "three"; }
