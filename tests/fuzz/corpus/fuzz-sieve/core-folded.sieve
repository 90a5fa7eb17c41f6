require "fileinto";
if header :is "subject" "a long folded subject" { fileinto "unfolded"; }
