require ["duplicate", "variables", "fileinto"];
if header :matches "subject" "*" { set "s" "${0}"; }
if duplicate :uniqueid "${s}" :seconds 999999999 { fileinto "x"; }
if duplicate :uniqueid "${s}" { fileinto "same-run-same-answer"; }
