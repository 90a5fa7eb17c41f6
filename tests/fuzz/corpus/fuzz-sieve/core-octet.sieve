require "fileinto";
if header :is :comparator "i;octet" "subject" "project status" { fileinto "wrong"; }
if header :is :comparator "i;ascii-casemap" "subject" "project status" { fileinto "right"; }
