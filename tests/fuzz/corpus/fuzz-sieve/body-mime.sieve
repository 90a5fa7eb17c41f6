require ["body", "fileinto"];
if body :text :contains "zürich" { fileinto "qp-decoded"; }
if body :text :contains "secret plan" { fileinto "html-text"; }
if body :content "application/pdf" :contains "%PDF" { fileinto "pdf"; }
if body :raw :contains "PGh0bWw+" { fileinto "raw-base64"; }
if body :content "text/html" :contains "<b>" { fileinto "html-content"; }
if body :content "text" :contains "visible" { fileinto "text-type"; }
