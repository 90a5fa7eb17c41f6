require "fileinto";
if size :over 100K { fileinto "big"; }
elsif size :under 1K { fileinto "small"; }
