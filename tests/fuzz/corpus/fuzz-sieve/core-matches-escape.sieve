require "fileinto";
if header :matches "subject" "\\*star*" { fileinto "star"; }
if header :matches "x-q" "what\\?" { fileinto "literal-q"; }
if header :matches "x-q" "*\\\\*" { fileinto "backslash"; }
