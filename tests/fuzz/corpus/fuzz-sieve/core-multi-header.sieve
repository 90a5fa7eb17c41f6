require "fileinto";
if header :is "x-tag" "second" { fileinto "any-occurrence"; }
if header :contains ["x-none", "x-tag"] "fir" { fileinto "list"; }
