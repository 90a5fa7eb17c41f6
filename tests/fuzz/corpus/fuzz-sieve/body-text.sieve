require ["body", "fileinto"];
if body :contains "money" { fileinto "money"; }
if body :text :contains "not on track" { fileinto "wrong"; }
