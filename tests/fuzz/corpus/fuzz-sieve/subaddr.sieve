require ["subaddress", "fileinto", "envelope"];
if address :user "to" "bob" { fileinto "user"; }
if address :detail "to" "lists" { fileinto "detail"; }
if envelope :detail "to" "" { fileinto "empty-detail"; }
if not envelope :detail :matches "to" "*" { fileinto "no-detail"; }
