require ["body", "fileinto"];
if body :content "message/rfc822" :contains "Inner subject" { fileinto "inner-header"; }
if body :text :contains "inner body text" { fileinto "inner-body"; }
if body :content "text/plain" :contains "outer" { fileinto "outer"; }
if body :content "image" :contains "" { fileinto "never"; }
