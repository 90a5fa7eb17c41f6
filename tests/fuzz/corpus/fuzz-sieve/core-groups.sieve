require "fileinto";
if address :is "to" "dave@example.com" { fileinto "in-group"; }
if address :all :matches "cc" "*" { fileinto "cc-any"; }
