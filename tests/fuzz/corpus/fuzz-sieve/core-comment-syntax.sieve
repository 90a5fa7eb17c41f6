/* a bracket comment
   over lines */ require /* inline */ "fileinto"; # hash comment
if header :contains "subject" "project" /* here too */ { fileinto "ok"; }
