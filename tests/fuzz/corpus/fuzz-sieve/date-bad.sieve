require ["date", "fileinto"];
if date :matches "x-date" "year" "*" { fileinto "parsed"; } else { fileinto "unparsed"; }
